"""Written reports for the delivery and archive tests: the files ``osint report`` leaves.

The JSON is written from the report model itself (:meth:`Report.to_json`), as
``osint report`` writes it, so these files can never drift from the real schema.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from osint.models import (
    AnnexEntry,
    Coverage,
    Development,
    Outlook,
    Period,
    Report,
    SectionBlock,
    Sections,
    Sentence,
    SourceRef,
)

PDF = b"%PDF-1.4\n" + b"0" * 4000 + b"\n%%EOF\n"
STEM = "mongolia-2026-03-09_2026-03-15"
ZONE = ZoneInfo("Asia/Ulaanbaatar")


def cited(text: str, **kw: object) -> Sentence:
    """A sentence citing annex entry 1 (item 7)."""
    return Sentence(text=text, item_ids=[7], citations=[1], **kw)  # type: ignore[arg-type]


def sample_report(
    *,
    title: str = "Mongolia Security Analysis Report",
    dev_title: str = "Khaan Quest-2026 planning meeting opens",
    annex_url: str = "https://montsame.mn/en/read/1",
    start: str = "2026-03-09",
    end: str = "2026-03-15",
    summary: str = "A planning meeting opened.",
    assessment: Sentence | None = None,
) -> Report:
    """A small complete report: one development, one cited source, two flashpoints."""
    published = datetime(2026, 3, 9, 10, tzinfo=ZONE)
    return Report(
        title=title,
        region="Mongolia",
        slug="mongolia",
        period=Period(start=date.fromisoformat(start), end=date.fromisoformat(end)),
        generated_at=datetime(2026, 3, 16, 6, tzinfo=ZONE),
        engine="extractive",
        executive_summary_sentences=[cited(summary), *([assessment] if assessment else [])],
        developments=[
            Development(
                title=cited(dev_title),
                sentences=[cited("The meeting opened on Monday.")],
                buckets=["defense"],
                item_ids=[7],
                story_id="s1",
                score=1.0,
                sources=[
                    SourceRef(
                        citation=1,
                        url=annex_url,
                        title="Khaan Quest planning meeting",
                        source="Montsame (English)",
                        published=published,
                    )
                ],
            )
        ],
        sections=Sections(
            geopolitical_blocks=[SectionBlock(heading="China", sentences=[], empty_note="No reporting.")],
            military_blocks=[],
            outlook=Outlook(
                flashpoints=[cited("Cyberattacks continue."), cited("Border trade grows.")],
                indicators=["Khaan Quest: named in 3 items"],
            ),
        ),
        annex=[
            AnnexEntry(
                number=1,
                item_id=7,
                title="Khaan Quest planning meeting",
                url=annex_url,
                source="Montsame (English)",
                domain="montsame.mn",
                published=published,
                reliability="A",
                bucket="defense",
            )
        ],
        items=[],
        coverage=Coverage(items=3, outlets=2, by_bucket={"defense": 3}, feeds=[]),
    )


def write_report(folder: Path, *, pdf: bytes | None = PDF, **fields: Any) -> Path:
    """A written report as ``osint report`` leaves it: JSON, Markdown and PDF side by side.

    ``fields`` are :func:`sample_report`'s.
    """
    folder.mkdir(parents=True, exist_ok=True)
    report = sample_report(**fields)
    stem = f"mongolia-{report.period.start}_{report.period.end}"
    (folder / f"{stem}.json").write_text(report.to_json(), encoding="utf-8")
    summary = report.executive_summary_sentences[0].text
    (folder / f"{stem}.md").write_text(f"# {report.title}\n\n{summary} \\[1\\]\n", encoding="utf-8")
    if pdf is not None:
        (folder / f"{stem}.pdf").write_bytes(pdf)
    return folder / f"{stem}.json"
