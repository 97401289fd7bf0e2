"""An item's evidence as the desk shows it: why relevant, why this bucket, what matched,
what language it is in and how that is known.

Read defensively from the classification's ``evidence`` (its shape belongs to the
classifier and may grow): what is missing is left out, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..analyse.language import language_name
from ..models import Item
from ..text import language_of


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
    language: str = "not detected"
    """The item's language and where it came from (see :func:`language_shown`)."""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _tag(tag: str) -> str:
    """A language tag with its English name: "ru (Russian)", "en-GB (English)"."""
    name = language_name(language_of(tag, ""))
    return f"{tag} ({name})" if name and name != tag else tag


def language_shown(item: Item) -> str:
    """An item's language as the analyst should read it: what it is, and how it is known.

    A tag the page or a detector gave this item is shown as it is. Failing that, the
    language the feeds file declares for the item's source (recorded with the item), said
    to be that: it is a claim about a whole source, which one article can belie. Failing
    both, the script of the title, which is what the report itself goes by. Only with
    none of these is the language "not detected".
    """
    if item.language:
        return _tag(item.language)
    if item.source_language:
        return f"{_tag(item.source_language)}: the source's declared language (not detected in the item)"
    script = language_of(None, item.title)
    if script:
        return f"{script.capitalize()} script, from the title (no language recorded)"
    return "not detected"


def evidence_summary(item: Item) -> EvidenceSummary:
    out = EvidenceSummary(
        extraction=item.extraction, extraction_note=item.extraction_note, language=language_shown(item)
    )
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
