"""The archive: index.html and an Atom feed.xml of every report in the directory."""

from __future__ import annotations

from pathlib import Path

import lxml.etree
import lxml.html

from osint.jobs.report import rebuild_archive
from osint.settings import Settings

from .conftest import DemoRun
from .reportfiles import write_report

ATOM = "{http://www.w3.org/2005/Atom}"


def _reports(folder: Path) -> None:
    write_report(folder, start="2026-03-02", end="2026-03-08", dev_title="Older week")
    write_report(
        folder,
        start="2026-03-09",
        end="2026-03-15",
        dev_title='<script>alert(1)</script> Quest & "friends"\x07',
        summary="Newest week\x0b summary.",
        pdf=None,
    )
    (folder / "notes.json").write_text('{"not": "a report"}', encoding="utf-8")
    (folder / "broken.json").write_text("{", encoding="utf-8")


def test_index_lists_every_report_newest_first_escaped(tmp_path: Path) -> None:
    _reports(tmp_path)
    paths = rebuild_archive(Settings(out=tmp_path))
    assert sorted(p.name for p in paths) == ["feed.xml", "index.html"]
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //@*[starts-with(name(), 'on')]")
    articles = doc.xpath("//article")
    assert len(articles) == 2  # the two non-reports are skipped
    newest, older = (a.text_content() for a in articles)
    assert "March 9, 2026 – March 15, 2026" in newest and "<script>alert(1)</script>" in newest
    assert "March 2, 2026 – March 8, 2026" in older and "Older week" in older
    links = [a.xpath(".//p[@class='files']/a/@href") for a in articles]
    assert links[0] == ["mongolia-2026-03-09_2026-03-15.md", "mongolia-2026-03-09_2026-03-15.json"]
    assert links[1] == [
        "mongolia-2026-03-02_2026-03-08.pdf",
        "mongolia-2026-03-02_2026-03-08.md",
        "mongolia-2026-03-02_2026-03-08.json",
    ]
    assert doc.xpath("//link[@rel='alternate']/@href") == ["feed.xml"]


def test_feed_is_valid_atom_with_stable_ids(tmp_path: Path) -> None:
    _reports(tmp_path)
    settings = Settings(reports_url="https://reports.example.org/mn/", out=tmp_path)
    rebuild_archive(settings)
    first = (tmp_path / "feed.xml").read_bytes()
    feed = lxml.etree.fromstring(first)  # raises on malformed XML or a stray control character
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    newest, older = entries
    assert (
        newest.findtext(f"{ATOM}title") == "Mongolia Security Analysis Report: March 9, 2026 – March 15, 2026"
    )
    assert newest.findtext(f"{ATOM}summary") == "Newest week summary. [1]"
    assert "&lt;script&gt;" in newest.findtext(f"{ATOM}content")  # escaped inside the HTML content
    content = lxml.html.fromstring(newest.findtext(f"{ATOM}content"))
    assert not content.xpath("//script") and "<script>alert(1)</script>" in content.text_content()
    enclosure = older.find(f"{ATOM}link[@rel='enclosure']")
    assert enclosure is not None
    assert enclosure.get("href") == "https://reports.example.org/mn/mongolia-2026-03-02_2026-03-08.pdf"
    assert int(enclosure.get("length")) > 1000
    assert newest.find(f"{ATOM}link[@rel='enclosure']") is None
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert all(i.startswith("urn:uuid:") for i in ids) and len(set(ids)) == 2
    assert feed.findtext(f"{ATOM}updated") and feed.find(f"{ATOM}author") is not None
    rebuild_archive(settings)
    again = lxml.etree.fromstring((tmp_path / "feed.xml").read_bytes())
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == ids


def test_empty_directory_still_gets_an_archive(tmp_path: Path) -> None:
    rebuild_archive(Settings(out=tmp_path))
    assert "No reports yet." in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert lxml.etree.fromstring((tmp_path / "feed.xml").read_bytes()).findall(f"{ATOM}entry") == []


def test_report_command_rebuilds_the_archive(demo_run: DemoRun) -> None:
    index = demo_run.out / "index.html"
    assert str(index) in demo_run.report_output
    doc = lxml.html.fromstring(index.read_text(encoding="utf-8"))
    hrefs = doc.xpath("//article//a/@href")
    assert demo_run.report_file("html").name in hrefs and demo_run.report_file("pdf").name in hrefs
    feed = lxml.etree.fromstring((demo_run.out / "feed.xml").read_bytes())
    assert len(feed.findall(f"{ATOM}entry")) == 1
