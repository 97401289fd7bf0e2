"""Rendering treats web text as data in every format, and is deterministic."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from osint.jobs.context import RunContext
from osint.jobs.report import build_report
from osint.models import (
    SCHEMA_VERSION,
    AnnexEntry,
    Coverage,
    Development,
    FeedCoverage,
    Outlook,
    Period,
    Report,
    ReportItem,
    SectionBlock,
    Sections,
    Sentence,
)
from osint.render import render
from osint.settings import PROJECT_ROOT, Settings
from osint.templating import autoescape, md_escape, safe_url

from .conftest import DemoRun

TEMPLATES = PROJECT_ROOT / "templates"
ZONE = ZoneInfo("Asia/Ulaanbaatar")
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) # Heading"


def hostile_report(tmp_path: Path) -> Report:
    local = tmp_path / "secret.txt"
    local.write_text("TOP SECRET LOCAL FILE")
    s = Sentence(text=f"The minister said {EVIL}.", item_ids=[1], citations=[1])
    when = datetime(2026, 3, 9, 2, tzinfo=UTC)
    return Report(
        title="Mongolia Security Analysis Report",
        region="Mongolia",
        slug="mongolia",
        period=Period(start=date(2026, 3, 6), end=date(2026, 3, 13)),
        generated_at=datetime(2026, 3, 14, 6, tzinfo=UTC),
        engine="extractive",
        executive_summary_sentences=[s],
        developments=[
            Development(
                title=Sentence(text=f"Headline {EVIL}", item_ids=[1], citations=[1]),
                sentences=[s],
                buckets=["security"],
                item_ids=[1],
                story_id="s-1",
                score=1.0,
            )
        ],
        sections=Sections(
            geopolitical_blocks=[SectionBlock(heading="China", sentences=[s])],
            military_blocks=[
                SectionBlock(heading="Defense", sentences=[], empty_note="No reporting this period.")
            ],
            outlook=Outlook(indicators=[f"term {EVIL}"]),
        ),
        annex=[
            AnnexEntry(
                number=1,
                item_id=1,
                title=f'<img src="{local.as_uri()}"> {EVIL}',
                url="javascript:alert(4)",
                source="Evil <b>Outlet</b>",
                domain="evil.example",
                published=when,
                reliability="F",
                bucket="security",
            )
        ],
        items=[
            ReportItem(
                item_id=1,
                url="https://evil.example/a",
                title=EVIL,
                source="Evil",
                domain="evil.example",
                published=when,
                buckets=["security"],
                primary_bucket="security",
                cluster="s-1",
                relevance=0.9,
                evidence={},
            )
        ],
        coverage=Coverage(
            items=1,
            outlets=1,
            by_bucket={"security": 1},
            feeds=[
                FeedCoverage(
                    name="Evil <i>feed</i>",
                    url="https://evil.example/feed",
                    status="failing",
                    last_error=f"HTTP 500 {EVIL}",
                    items=1,
                )
            ],
        ),
    )


def test_autoescape_applies_to_our_template_names() -> None:
    assert autoescape("report.html.j2") and autoescape("email.html.j2") and autoescape("feed.xml.j2")
    assert not autoescape("report.md.j2")


def test_html_keeps_hostile_text_inert(tmp_path: Path) -> None:
    html = render(hostile_report(tmp_path), "html", TEMPLATES, ZONE).decode()
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //img | //iframe")
    assert not doc.xpath("//@*[starts-with(name(), 'on')]")
    assert not [h for h in doc.xpath("//a/@href") if h.lower().startswith("javascript")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_escapes_markup_links_and_headings(tmp_path: Path) -> None:
    md = render(hostile_report(tmp_path), "md", TEMPLATES, ZONE).decode()
    assert not re.search(r"(?<!\\)<(script|img)", md), "only backslash-escaped markup may remain"
    assert not re.search(r"(?<!\\)\]\(javascript:", md) and "<javascript:" not in md
    assert "\\[click\\]" in md and "\\# Heading" in md
    assert md_escape("# Title") == "\\# Title" and md_escape("1. item") == "1\\. item"
    assert safe_url("javascript:alert(1)") == "#"
    assert safe_url("https://a.example/x y<z>") == "https://a.example/x%20y%3Cz%3E"


def test_pdf_reads_no_local_file_and_embeds_nothing(tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render(hostile_report(tmp_path), "pdf", TEMPLATES, ZONE))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "TOP SECRET" not in text
    assert "<script>alert(1)</script>" in " ".join(text.split())  # shown as text, not run
    listed = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True, check=True)
    assert listed.stdout.startswith("0 embedded files")
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True)
    assert len(images.stdout.strip().splitlines()) == 2  # the header lines only: no image came in


def test_pdf_fetcher_refuses_files_and_addresses() -> None:
    from osint.render import _pdf_fetcher

    fetcher = _pdf_fetcher(TEMPLATES)
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data", "https://example.org/x.png"):
        with pytest.raises(ValueError, match="blocked"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hello") is not None


def test_same_store_and_period_render_byte_identical(
    demo_run: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_run.out.parent)
    settings = Settings(feeds=demo_run.feeds, db=demo_run.db)
    fixed = datetime(2026, 3, 14, 6, tzinfo=UTC)
    outputs = []
    for _ in range(2):
        with RunContext(settings) as ctx:
            report = build_report(ctx, date(2026, 3, 6), date(2026, 3, 13), now=fixed)
        outputs.append({f: render(report, f, TEMPLATES, ZONE) for f in ("html", "md", "json", "pdf")})
    for fmt in ("html", "md", "json", "pdf"):
        assert outputs[0][fmt] == outputs[1][fmt], fmt


def test_every_sentence_of_every_section_cites_a_period_item(demo_run: DemoRun) -> None:
    report = Report.from_json(demo_run.report_file("json").read_bytes())
    annex = {a.number: a for a in report.annex}
    period_urls = {i.url for i in report.items}
    sections = report.sections
    groups = [report.executive_summary_sentences]
    groups += [d.sentences for d in report.developments]
    groups += [b.sentences for b in sections.geopolitical_blocks + sections.military_blocks]
    groups.append([e.sentence for e in sections.outlook.calendar])
    groups += [sections.outlook.flashpoints, sections.outlook.recommendations]
    count = 0
    for sentences in groups:
        for s in sentences:
            assert s.citations, s.text
            for n in s.citations:
                assert annex[n].url in period_urls
            count += 1
    assert count >= 20
    cited = {n for group in groups for s in group for n in s.citations}
    cited |= {n for d in report.developments for n in d.title.citations}
    assert cited == set(annex), "the annex lists exactly the cited articles"


def test_report_json_reads_back_into_the_model_it_was_written_from(demo_run: DemoRun) -> None:
    written = demo_run.report_file("json").read_text(encoding="utf-8")
    report = Report.from_json(written)
    assert report.to_json() == written  # derived text is recomputed, not read, and comes out the same
    assert report.review.status == "draft" and report.sections.outlook.flashpoints
    assert all(isinstance(s, Sentence) and s.citations for s in report.sections.outlook.flashpoints)


def test_a_report_of_another_schema_is_refused_plainly(demo_run: DemoRun) -> None:
    data = json.loads(demo_run.report_file("json").read_text(encoding="utf-8"))
    data["schema_version"] = 1
    with pytest.raises(ValueError, match=f"schema_version 1 is not {SCHEMA_VERSION}"):
        Report.from_json(json.dumps(data))
    data["schema_version"], data["unexpected"] = SCHEMA_VERSION, True
    with pytest.raises(ValueError, match="unexpected"):
        Report.from_json(json.dumps(data))


def test_a_broken_template_is_a_report_error(tmp_path: Path) -> None:
    from osint.errors import ReportError

    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "report.md.j2").write_text("{% for x in %}")
    with pytest.raises(ReportError, match="md template"):
        render(hostile_report(tmp_path), "md", broken, ZONE)
    with pytest.raises(ReportError, match="html template"):
        render(hostile_report(tmp_path), "html", broken, ZONE)


def assessed_report(tmp_path: Path) -> Report:
    """The hostile report with one assessment in the summary and one among the flashpoints."""
    report = hostile_report(tmp_path)
    judged = Sentence(
        text="Further incidents are likely before the vote.", item_ids=[1], citations=[1],
        kind="assessment", author="llm:qwen2.5",
    )  # fmt: skip
    report.executive_summary_sentences.append(judged)
    report.sections.outlook.flashpoints.append(judged.model_copy(update={"author": "a.analyst"}))
    return report


def test_assessments_are_labelled_with_their_author_in_every_format(tmp_path: Path) -> None:
    report = assessed_report(tmp_path)
    html = render(report, "html", TEMPLATES, ZONE).decode()
    doc = lxml.html.fromstring(html)
    marked = doc.xpath("//span[@class='assessment']")
    assert [m.xpath("string(span[@class='assessment-label'])") for m in marked] == [
        "Assessment (llm:qwen2.5):",
        "Assessment (a.analyst):",
    ]
    assert all("Further incidents are likely" in m.text_content() for m in marked)
    facts = doc.xpath("//span[@class='assessment']//*[contains(text(), 'The minister said')]")
    assert not facts, "a fact is never inside an assessment's mark"
    md = render(report, "md", TEMPLATES, ZONE).decode()
    assert "*Assessment (llm:qwen2.5):* Further incidents are likely before the vote. \\[1\\]" in md
    assert "- *Assessment (a.analyst):* Further incidents" in md
    assert md.count("*Assessment (") == 2
    data = json.loads(render(report, "json", TEMPLATES, ZONE))
    last = data["executive_summary_sentences"][-1]
    assert (last["kind"], last["author"]) == ("assessment", "llm:qwen2.5")
    assert data["executive_summary_sentences"][0]["kind"] == "fact"
    assert data["executive_summary"].endswith(
        "Assessment (llm:qwen2.5): Further incidents are likely before the vote. [1]"
    )
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render(report, "pdf", TEMPLATES, ZONE))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Assessment (llm:qwen2.5): Further incidents are likely" in flat
    assert "Assessment (a.analyst): Further incidents are likely" in flat
