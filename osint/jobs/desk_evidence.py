"""An item's evidence as the desk shows it: why relevant, why this bucket, what matched.

Read defensively from the classification's ``evidence`` (its shape belongs to the
classifier and may grow): what is missing is left out, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Item


@dataclass
class EvidenceSummary:
    relevance: float | None = None
    relevant_because: list[str] = field(default_factory=list)
    score: str = ""
    primary: str | None = None
    bucket_basis: str = ""
    bucket_terms: list[tuple[str, float, list[str]]] = field(default_factory=list)
    """Bucket, its score, its strongest terms."""
    extraction: str = "page"
    extraction_note: str | None = None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def evidence_summary(item: Item) -> EvidenceSummary:
    out = EvidenceSummary(extraction=item.extraction, extraction_note=item.extraction_note)
    c = item.classification
    if c is None:
        return out
    out.relevance = c.relevance
    out.primary = c.buckets[0] if c.buckets else None
    rel = _dict(c.evidence.get("relevance"))
    for m in rel.get("matches", []) if isinstance(rel.get("matches"), list) else []:
        m = _dict(m)
        if m.get("term"):
            out.relevant_because.append(
                f"{m['term']} ({m.get('kind', '?')}, {m.get('where', '?')}, ×{m.get('count', 1)})"
            )
    if rel.get("domestic_source_prior"):
        out.relevant_because.append(f"domestic source (+{rel['domestic_source_prior']})")
    if "score" in rel:
        out.score = f"{rel['score']} (threshold {rel.get('threshold', '?')})"
    buckets = _dict(c.evidence.get("buckets"))
    out.bucket_basis = str(buckets.get("basis", ""))
    for name, data in buckets.items():
        d = _dict(data)
        if "score" in d and float(d["score"]) > 0:
            terms = [f"{t} {w}" for t, w in list(_dict(d.get("terms")).items())[:6]]
            out.bucket_terms.append((name, float(d["score"]), terms))
    out.bucket_terms.sort(key=lambda t: -t[1])
    return out
