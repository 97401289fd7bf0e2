"""Written reports for the delivery and archive tests: the files ``osint report`` leaves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PDF = b"%PDF-1.4\n" + b"0" * 4000 + b"\n%%EOF\n"
STEM = "mongolia-2026-03-09_2026-03-15"


def write_report(
    folder: Path,
    *,
    title: str = "Mongolia Security Analysis Report",
    dev_title: str = "Khaan Quest-2026 planning meeting opens",
    annex_url: str = "https://montsame.mn/en/read/1",
    pdf: bytes | None = PDF,
    start: str = "2026-03-09",
    end: str = "2026-03-15",
    summary: str = "A planning meeting opened.",
) -> Path:
    """A written report as ``osint report`` leaves it: JSON, Markdown and PDF side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "schema_version": 1,
        "title": title,
        "region": "Mongolia",
        "period": {"start": start, "end": end},
        "generated_at": "2026-03-16T06:00:00+08:00",
        "engine": "extractive",
        "executive_summary": f"{summary} [1]",
        "executive_summary_sentences": [{"text": summary, "citations": [1]}],
        "developments": [
            {
                "title": dev_title,
                "title_citations": [1],
                "summary": "The meeting opened on Monday. [1]",
                "sentences": [{"text": "The meeting opened on Monday.", "citations": [1]}],
                "buckets": ["defense"],
                "status": "new",
            }
        ],
        "sections": {
            "geopolitical_blocks": [{"heading": "China", "sentences": [], "empty": "No reporting."}],
            "military_blocks": [],
            "outlook": {
                "calendar": [],
                "flashpoints": "Cyberattacks continue. [1] Border trade grows. [1]",
                "indicators": ["Khaan Quest: named in 3 items"],
                "recommendations": "",
            },
        },
        "annex": [
            {
                "number": 1,
                "title": "Khaan Quest planning meeting",
                "url": annex_url,
                "source": "Montsame (English)",
                "published": "2026-03-09T10:00:00+08:00",
                "bucket": "defense",
                "reliability": "A",
            }
        ],
        "coverage": {"items": 3, "outlets": 2, "by_bucket": {"defense": 3}, "feeds": []},
    }
    stem = f"mongolia-{start}_{end}"
    (folder / f"{stem}.json").write_text(json.dumps(doc), encoding="utf-8")
    (folder / f"{stem}.md").write_text(f"# {title}\n\n{summary} \\[1\\]\n", encoding="utf-8")
    if pdf is not None:
        (folder / f"{stem}.pdf").write_bytes(pdf)
    return folder / f"{stem}.json"
