"""The archive of written reports: ``index.html`` to browse and ``feed.xml`` (Atom) to subscribe.

Built from the report directory alone: every ``*.json`` there that reads as a report
is listed, newest period first, with links to the files beside it. That makes the
archive a pure function of the directory, so rebuilding it after any report (or after
deleting one) is always right, and a stray or broken JSON file costs only its own entry.

Everything shown comes from the web or from file names, so the templates are
autoescaped, links are to the report's own files (percent-encoded) or to the
configured ``OSINT_REPORTS_URL``, and text bound for XML loses the control characters
that XML 1.0 cannot carry.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from .models import Report
from .stats import Stats
from .templating import environment, safe_url
from .text import strip_controls

log = logging.getLogger(__name__)

INDEX = "index.html"
FEED = "feed.xml"
FORMATS = ("html", "pdf", "md", "json")
TOP_DEVELOPMENTS = 5
FEED_ENTRIES = 52
_ID_NAMESPACE = uuid.UUID("5b0c8a5e-3c6f-4d0e-9a53-7f1c0b6a2e41")


@dataclass(frozen=True)
class ArchiveEntry:
    """One report found in the directory: its data and which of its files exist."""

    stem: str
    doc: Report
    files: dict[str, int]
    """Format -> file size in bytes, for the formats present."""

    def href(self, fmt: str, base: str | None) -> str:
        name = quote(f"{self.stem}.{fmt}")
        return safe_url(base.rstrip("/") + "/" + name) if base else name

    @property
    def entry_id(self) -> str:
        """A stable Atom id: the same report keeps its id when it is rebuilt or moved."""
        return uuid.uuid5(_ID_NAMESPACE, self.stem).urn


def scan_reports(out_dir: Path, stats: Stats | None = None) -> list[ArchiveEntry]:
    """Every readable report JSON in ``out_dir``, newest period first.

    ``stats`` counts the reports listed (``archive/reports``) and the JSON files skipped
    (``archive/skipped``).
    """
    counts = stats or Stats()
    entries = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            doc = Report.from_json(path.read_bytes())
        except (OSError, ValidationError, ValueError) as exc:
            log.warning("archive: %s skipped, not a readable report (%s)", path.name, type(exc).__name__)
            counts.inc_value("archive/skipped")
            continue
        stem = path.name[: -len(".json")]
        files = {}
        for fmt in FORMATS:
            p = out_dir / f"{stem}.{fmt}"
            if p.is_file():
                files[fmt] = p.stat().st_size
        entries.append(ArchiveEntry(stem, doc, files))
    entries.sort(key=lambda e: (e.doc.period.end, e.doc.period.start, e.stem), reverse=True)
    counts.set_value("archive/reports", len(entries))
    return entries


def xml_text(value: object) -> str:
    """Text XML 1.0 can carry (it has no escape for most control characters)."""
    return strip_controls(str(value))


def render_archive(
    entries: list[ArchiveEntry],
    templates_dir: Path,
    zone: ZoneInfo,
    *,
    reports_url: str | None = None,
    now: datetime | None = None,
) -> dict[str, bytes]:
    """``index.html`` and ``feed.xml`` for ``entries``, as the bytes to write (pure)."""
    env = environment(templates_dir)
    env.filters["xml"] = xml_text
    regions = sorted({e.doc.region for e in entries})
    title = f"{' · '.join(regions)} security reports" if regions else "Security reports"
    stamp = now or datetime.now(UTC)
    updated = max((e.doc.generated_at for e in entries), default=stamp)
    base = reports_url.rstrip("/") if reports_url else None
    context = {
        "title": title,
        "entries": entries,
        "zone": zone,
        "base": base,
        "top": TOP_DEVELOPMENTS,
        "updated": updated.astimezone(UTC),
        "generated": stamp.astimezone(zone),
        "feed_id": uuid.uuid5(_ID_NAMESPACE, f"feed:{base or title}").urn,
        "feed_href": f"{base}/{FEED}" if base else FEED,
        "index_href": f"{base}/{INDEX}" if base else INDEX,
    }
    index = env.get_template("archive.html.j2").render(**context)
    feed = env.get_template("feed.xml.j2").render(**{**context, "entries": entries[:FEED_ENTRIES]})
    return {INDEX: index.encode("utf-8"), FEED: feed.encode("utf-8")}
