"""Text a feed escaped is text: kept through collection, and inert in every report format.

A feed that writes ``&lt;b&gt;{{7*7}}&lt;/b&gt;`` in a title means the characters
``<b>{{7*7}}</b>``. They were once decoded a second time and stripped as markup; now
they are stored as written and rendered as text (no bold, no template evaluation).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import lxml.html
import pytest

from osint.parse import parse_feed_document

from .conftest import PROJECT, invoke
from .hostile_server import hostile_server

LITERAL = "<b>{{7*7}}</b> update"
ESCAPED = "&lt;b&gt;{{7*7}}&lt;/b&gt; update"
HEADLINE = f"{LITERAL}: Mongolia and China agree new border crossing rules"

# No <title> and no <h1>: the stored headline is the feed's own title.
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><article>
<p>Mongolia and China agreed on Monday in Ulaanbaatar to extend opening hours at the Zamyn-Uud
border crossing, the Ministry of Foreign Affairs of Mongolia said in a statement.</p>
<p>The agreement follows talks between border agencies of both countries and covers freight
trains as well as passenger traffic, officials in Ulaanbaatar said after the meeting.</p>
<p>The ministry said a joint working group will review the new rules in six months and report
to both governments on queues, inspections and the movement of coal exports.</p>
</article></body></html>"""


def _feed(link: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Border news</title>'
        "<link>http://127.0.0.1/</link><item>"
        f"<title>{ESCAPED.replace('update', 'update: Mongolia and China agree new border crossing rules')}</title>"
        f"<link>{link}</link><pubDate>Mon, 09 Mar 2026 10:00:00 +0800</pubDate>"
        "<description>Mongolia and China agreed new rules for the Zamyn-Uud border crossing.</description>"
        "</item></channel></rss>"
    ).encode()


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")


def test_escaped_title_is_stored_as_written_and_rendered_inert(tmp_path: Path) -> None:
    with hostile_server() as srv:
        srv.static("/feed.xml", _feed(srv.url("/a1")), "application/rss+xml")
        srv.static("/a1", PAGE.encode())
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            f"country: {PROJECT / 'countries' / 'mongolia.yaml'}\nsources:\n"
            f"  - name: Border news\n    url: '{srv.url('/feed.xml')}'\n    language: en\n    reliability: B\n"
        )
        db, out = tmp_path / "o.db", tmp_path / "reports"
        code, output = invoke("collect", "--feeds", str(feeds), "--db", str(db))
        assert code == 0, output
    con = sqlite3.connect(db)
    [(stored,)] = con.execute("SELECT title FROM items").fetchall()
    con.close()
    assert stored == HEADLINE

    code, output = invoke(
        "report", "--feeds", str(feeds), "--db", str(db), "--from", "2026-03-06", "--to", "2026-03-13",
        "--out", str(out), "--format", "html,md,pdf,json",
    )  # fmt: skip
    assert code == 0, output
    html_file, md_file, pdf_file, json_file = (
        out / f"mongolia-2026-03-06_2026-03-13.{ext}" for ext in ("html", "md", "pdf", "json")
    )

    report = json.loads(json_file.read_text())
    assert HEADLINE in [i["title"] for i in report["items"]]

    html = html_file.read_text()
    doc = lxml.html.fromstring(html)
    assert not [b for b in doc.iter("b") if "7*7" in b.text_content()], "the literal <b> became an element"
    assert LITERAL in doc.text_content() and "49 update" not in doc.text_content()
    assert "&lt;b&gt;{{7*7}}&lt;/b&gt; update" in html

    md = md_file.read_text()
    assert not re.search(r"(?<!\\)<b>\{\{7\*7\}\}", md), "only backslash-escaped markup may remain"
    assert LITERAL in re.sub(r"\\(.)", r"\1", md), "the literal text, once its escapes are read"
    assert "49 update" not in md

    text = subprocess.run(
        ["pdftotext", str(pdf_file), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert LITERAL in " ".join(text.split())


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("&lt;b&gt;{{7*7}}&lt;/b&gt; update", "<b>{{7*7}}</b> update"),  # escaped: text
        ("<![CDATA[<b>{{7*7}}</b> update]]>", "<b>{{7*7}}</b> update"),  # CDATA: text
        ("Q&amp;A &amp;amp; more", "Q&A &amp; more"),  # decoded once, not twice
        ("Naked <b>bold</b> title", "Naked bold title"),  # real elements are stripped
    ],
)
def test_rss_titles_decode_entities_once_and_strip_only_real_elements(title: str, expected: str) -> None:
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>{title}</title><link>https://e.org/1</link></item></channel></rss>"
    ).encode()
    assert parse_feed_document(body, source="s", final_url="https://e.org/").entries[0].title == expected


@pytest.mark.parametrize(
    ("attrs", "title", "expected"),
    [
        ('type="text"', "&lt;b&gt;x&lt;/b&gt; &amp;amp;", "<b>x</b> &amp;"),  # Atom text: text
        ('type="html"', "&lt;b&gt;x&lt;/b&gt; &amp;amp;", "x &"),  # Atom html: HTML, as declared
        ('type="xhtml"', '<div xmlns="http://www.w3.org/1999/xhtml"><b>x</b> y</div>', "x y"),
    ],
)
def test_atom_titles_follow_their_declared_type(attrs: str, title: str, expected: str) -> None:
    body = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        f'<entry><title {attrs}>{title}</title><link href="https://e.org/1"/></entry></feed>'
    ).encode()
    assert parse_feed_document(body, source="s", final_url="https://e.org/").entries[0].title == expected


def test_html_descriptions_lose_their_markup_and_code() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>t</title>'
        b"<link>https://e.org/1</link><description>&lt;p&gt;Talks &lt;b&gt;resume&lt;/b&gt;"
        b"&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; go on&lt;/p&gt;</description></item></channel></rss>"
    )
    assert parse_feed_document(body, source="s", final_url="https://e.org/").entries[0].summary == (
        "Talks resume & go on"
    )
