"""The whole pipeline through the CLI against the sample corpus served on 127.0.0.1."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml
from pypdf import PdfReader

from osint.classify import Classifier
from osint.jobs.context import RunContext
from osint.jobs.report import build_report
from osint.settings import Settings

from .conftest import DemoRun, invoke

SECTIONS = [
    "Executive Summary",
    "Key Security Developments",
    "Geopolitical Impact and Regional Dynamics",
    "Military and Defense Analysis",
    "Outlook and Forecast",
    "Coverage and Method",
    "Cited Open Sources",
]


def test_collect_stores_every_source_and_rerun_adds_nothing(demo_run: DemoRun) -> None:
    db = sqlite3.connect(demo_run.db)
    items = db.execute("SELECT COUNT(*), COUNT(DISTINCT url) FROM items").fetchone()
    assert items[0] >= 40 and items[0] == items[1]
    sources = dict(db.execute("SELECT name, status FROM sources").fetchall())
    assert set(sources.values()) == {"ok"}, sources
    assert "0 source(s) failed" in demo_run.collect_output
    # The second run found nothing new: every feed answered 304 or listed known items.
    assert re.search(r"^0 new item\(s\)", demo_run.recollect_output, re.MULTILINE)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_report_writes_four_formats(demo_run: DemoRun) -> None:
    for ext in ("html", "pdf", "md", "json"):
        path = demo_run.report_file(ext)
        assert path.is_file() and path.stat().st_size > 1000, path
        assert str(path) in demo_run.report_output


def test_json_follows_the_spec_and_every_citation_resolves(demo_run: DemoRun) -> None:
    data = json.loads(demo_run.report_file("json").read_text())
    assert data["schema_version"] == 3
    assert data["region"] == "Mongolia"
    assert data["period"] == {"start": "2026-03-06", "end": "2026-03-13"}
    assert data["engine"] == "extractive"
    assert data["review"] == {"status": "draft", "approved_by": None, "approved_at": None, "changes": 0}
    assert isinstance(data["executive_summary"], str) and isinstance(data["sections"]["geopolitical"], str)
    for key in (
        "title",
        "generated_at",
        "executive_summary",
        "developments",
        "sections",
        "items",
        "sources",
        "coverage",
    ):
        assert key in data
    cov = data["coverage"]
    assert cov["items"] == len(data["items"])
    assert set(cov["by_bucket"]) == {"security", "economy", "diplomacy", "defense"}
    assert {f["status"] for f in cov["feeds"]} == {"ok"}
    numbers = {a["number"]: a for a in data["annex"]}
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    item_urls = {i["url"] for i in data["items"]}
    cited = 0
    for dev in data["developments"]:
        assert dev["title"] and dev["summary"] and dev["sources"]
        assert dev["title"] == dev["headline"]["text"] and dev["headline"]["citations"]
        for s in dev["sentences"]:
            assert s["citations"], s
            for n in s["citations"]:
                assert numbers[n]["url"] in item_urls
                cited += 1
    assert cited > 10
    for item in data["items"]:
        assert item["url"].startswith("http://127.0.0.1:")
        assert "2026-03-05" < item["published"][:10] <= "2026-03-13"
        assert item["cluster"]


def test_demo_covers_the_seed_developments(demo_run: DemoRun) -> None:
    """Each development of seed 001 that the corpus holds is a Key Development of its own."""
    data = json.loads(demo_run.report_file("json").read_text())
    titles = [d["title"].lower() for d in data["developments"]]
    for topic in (
        "khaan quest",
        "cyberattacks",
        "middle east",
        "altanbulag",
        "51.9",
        "eu delegation",
        "water compact",
        "general staff",
    ):
        assert sum(topic in t for t in titles) == 1, (topic, titles)
    irrelevant = [i for i in data["items"] if "kazakhstan" in i["title"].lower()]
    assert not irrelevant, "items about other countries must not be reported as relevant"


def test_html_is_self_contained_and_inert(demo_run: DemoRun) -> None:
    html = demo_run.report_file("html").read_text()
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //iframe | //object | //embed | //link[@rel='stylesheet']")
    assert not doc.xpath("//@*[starts-with(name(), 'on')]")
    assert not doc.xpath("//img[not(starts-with(@src, 'data:'))]")
    for heading in SECTIONS:
        assert heading in html
    anchors = {a.get("id") for a in doc.xpath("//li[starts-with(@id, 'ref-')]")}
    links = {a.get("href")[1:] for a in doc.xpath("//a[@class='cite']")}
    assert links and links <= anchors


def test_pdf_reads_back_with_every_section(demo_run: DemoRun) -> None:
    pdf = demo_run.report_file("pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for heading in SECTIONS:
        assert heading.lower() in flat.lower(), heading
    assert "Page 1 of" in flat
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+", info), info  # A4
    attachments = subprocess.run(
        ["pdfdetach", "-list", str(pdf)], capture_output=True, check=True, text=True
    ).stdout
    assert attachments.startswith("0 embedded files")
    reader = PdfReader(pdf)
    bookmarks = [o.title for o in reader.outline if not isinstance(o, list)]
    assert [b for b in bookmarks if b in SECTIONS] == SECTIONS, bookmarks
    dests = {str(a.get_object().get("/Dest")) for p in reader.pages for a in (p.get("/Annots") or [])}
    assert {d for d in dests if d.startswith("ref-")}, "citations link to the annex entries"


def test_feeds_json_reports_health(demo_run: DemoRun) -> None:
    code, output = invoke("feeds", "--json", "--feeds", str(demo_run.feeds), "--db", str(demo_run.db))
    assert code == 0
    rows = json.loads(output)
    assert len(rows) == 5
    for row in rows:
        assert set(row) >= {"name", "url", "status", "last_error", "consecutive_failures", "last_success"}
        assert row["status"] == "ok" and row["last_success"]


def test_collect_classifies_and_reports_reuse_the_decisions(
    demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite3.connect(demo_run.db)
    assert db.execute("SELECT COUNT(*) FROM items WHERE classified_with IS NULL").fetchone() == (0,)
    # Items outside any reported period were classified too: collect did it, not the report.
    assert (
        db.execute(
            "SELECT COUNT(*) FROM items WHERE published > '2026-03-20' AND relevant IS NOT NULL"
        ).fetchone()[0]
        >= 1
    )

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("classified again although the profile did not change")

    monkeypatch.setattr(Classifier, "classify", refuse)
    monkeypatch.chdir(demo_run.out.parent)
    with RunContext(Settings(feeds=demo_run.feeds, db=demo_run.db)) as ctx:
        report = build_report(ctx, date(2026, 3, 6), date(2026, 3, 13))
    assert report.coverage.items > 20


def _feeds_file(path: Path, demo_feeds: Path, grades: dict[str, str], drop: tuple[str, ...] = ()) -> Path:
    """The demo's live feeds file with other grades, some sources left out."""
    data = yaml.safe_load(demo_feeds.read_text(encoding="utf-8"))
    data["sources"] = [
        {**s, "reliability": grades.get(s["name"], s["reliability"])}
        for s in data["sources"]
        if s["name"] not in drop
    ]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _report_json(db: Path, out: Path, *feeds: str) -> tuple[dict[str, Any], str]:
    code, output = invoke("report", "--db", str(db), "--from", "2026-03-06", "--to", "2026-03-13",
                          "--out", str(out), "--format", "json", *feeds)  # fmt: skip
    assert code == 0, output
    data = json.loads((out / "mongolia-2026-03-06_2026-03-13.json").read_text(encoding="utf-8"))
    data.pop("generated_at")
    return data, output


def test_a_report_is_a_function_of_its_store_whatever_feeds_file_is_given(
    demo_run: DemoRun, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
    db = tmp_path / "mine.db"
    mine = _feeds_file(tmp_path / "my.yaml", demo_run.feeds, {"Montsame (English)": "B", "The UB Post": "D"})
    code, output = invoke("collect", "--feeds", str(mine), "--db", str(db))
    assert code == 0, output
    # The default feeds.yaml of this directory names a source the store never saw; another file
    # grades every source F. Neither changes the report.
    profile = yaml.safe_load(demo_run.feeds.read_text(encoding="utf-8"))["country"]
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"country": profile, "sources": [
        {"name": "Unrelated Wire", "url": "http://127.0.0.1:9/feed.xml", "reliability": "E"}]}), encoding="utf-8")  # fmt: skip
    other = _feeds_file(tmp_path / "other.yaml", demo_run.feeds, dict.fromkeys(GRADES, "F"))
    default, _ = _report_json(db, tmp_path / "a")
    given, _ = _report_json(db, tmp_path / "b", "--feeds", str(other))
    assert default == given
    assert "never collected (Unrelated Wire)" in caplog.text
    feeds = {f["name"]: (f["status"], f["reliability"]) for f in default["coverage"]["feeds"]}
    assert feeds == {name: ("ok", grade) for name, grade in {**GRADES, "Montsame (English)": "B",
                                                             "The UB Post": "D"}.items()}  # fmt: skip
    graded = {(a["source"], a["reliability"]) for a in default["annex"]}
    assert ("Montsame (English)", "B") in graded and ("The UB Post", "D") in graded
    assert {a["source"] for a in default["annex"]} <= set(GRADES) and "F" not in {g for _, g in graded}

    # A source removed from the feeds file is listed as removed, its items keep their grade.
    fewer = _feeds_file(
        tmp_path / "fewer.yaml", demo_run.feeds, {"Montsame (English)": "A"}, drop=("The UB Post",)
    )
    code, output = invoke("collect", "--feeds", str(fewer), "--db", str(db))
    assert code == 0, output
    after, _ = _report_json(db, tmp_path / "c", "--feeds", str(fewer))
    feeds = {f["name"]: (f["status"], f["reliability"]) for f in after["coverage"]["feeds"]}
    assert feeds["The UB Post"] == ("removed", "D")
    graded = {(a["source"], a["reliability"]) for a in after["annex"]}
    assert ("The UB Post", "D") in graded
    assert ("Montsame (English)", "B") in graded  # collected as B; regraded A only for what comes next


GRADES = {
    "Montsame (English)": "A",
    "The UB Post": "B",
    "Ministry of Foreign Affairs of Mongolia": "A",
    "Central Eurasia Wire": "C",
    "Northeast Asia Policy Forum": "B",
}
"""The demo feeds file's grades."""
