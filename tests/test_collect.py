"""Collection against hostile sources on 127.0.0.1: each bad source costs only itself."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from osint.cli import EXIT_BUSY
from osint.errors import BusyError, ExtractError
from osint.jobs.gather import ExtractorPool
from osint.locks import exclusive_lock
from osint.models import Article

from .conftest import PROJECT, invoke
from .hostile_server import HostileServer, hostile_server, reply

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>
<article><h1>{title}</h1>
<p>{body}</p>
<p>The report was prepared for the osint test suite and describes events in Ulaanbaatar, the capital
of Mongolia, in plain language so that the extractor has a full paragraph to work with.</p>
<p>Officials said further meetings are planned, and the ministry will publish a summary afterwards.</p>
</article><footer>© Test outlet</footer></body></html>"""


def rss(items: list[tuple[str, str, str]], extra: str = "") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate>"
        f"<description>Summary of {t}, reported for the test suite with enough words to stand.</description></item>"
        for t, link, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{extra}<rss version="2.0"><channel><title>T</title>'
        f"<link>http://example.org/</link>{body}</channel></rss>"
    ).encode()


def page(title: str, body: str = "Mongolia's government met on Monday to discuss the week ahead.") -> bytes:
    return ARTICLE.format(title=title, body=body).encode()


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with hostile_server() as s:
        yield s


def write_feeds(tmp: Path, sources: list[dict[str, str]]) -> Path:
    lines = [f"country: {PROJECT / 'countries' / 'mongolia.yaml'}", "sources:"]
    for s in sources:
        lines.append(f"  - name: {s['name']}")
        for k, v in s.items():
            if k != "name":
                lines.append(f"    {k}: '{v}'")
    path = tmp / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def feeds_json(feeds: Path, db: Path) -> dict[str, dict[str, object]]:
    code, out = invoke("feeds", "--json", "--feeds", str(feeds), "--db", str(db))
    assert code == 0
    return {r["name"]: r for r in json.loads(out)}


def test_bad_sources_cost_only_themselves(srv: HostileServer, tmp_path: Path) -> None:
    good = srv.url("/good.xml")
    srv.static(
        "/good.xml",
        rss([("Khural approves budget", srv.url("/a1"), "Mon, 09 Mar 2026 10:00:00 +0800")]),
        "application/rss+xml",
    )
    srv.static("/a1", page("Khural approves budget"))
    srv.static("/challenge.xml", b"<!DOCTYPE html><html><body>Checking your browser...</body></html>")
    srv.static("/json.xml", b'{"error": "gone"}', "application/json")
    srv.static("/empty.xml", b"", "application/rss+xml")
    srv.route("/500.xml", lambda h: reply(h, 500, b"boom"))
    feeds = write_feeds(
        tmp_path,
        [
            {"name": "Good", "url": good},
            {"name": "Challenge", "url": srv.url("/challenge.xml")},
            {"name": "Json", "url": srv.url("/json.xml")},
            {"name": "Empty", "url": srv.url("/empty.xml")},
            {"name": "Broken", "url": srv.url("/500.xml")},
            {"name": "Nowhere", "url": "http://127.0.0.1:9/feed.xml"},
        ],
    )
    db = tmp_path / "o.db"
    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 0, out
    assert "5 source(s) failed" in out
    health = feeds_json(feeds, db)
    assert health["Good"]["status"] == "ok"
    assert "HTML page, not a feed" in str(health["Challenge"]["last_error"])
    assert "JSON" in str(health["Json"]["last_error"])
    assert "empty body" in str(health["Empty"]["last_error"])
    assert "HTTP 500" in str(health["Broken"]["last_error"])
    assert "connection failed" in str(health["Nowhere"]["last_error"])
    assert all(health[n]["consecutive_failures"] == 1 for n in ("Challenge", "Json", "Empty", "Broken"))
    assert rows(db, "SELECT title FROM items") == [("Khural approves budget",)]


def test_failures_count_up_back_off_and_reset(srv: HostileServer, tmp_path: Path) -> None:
    state = {"up": False}

    def feed(h: object) -> None:
        if state["up"]:
            reply(
                h,
                200,
                rss([("Back again", srv.url("/b1"), "Tue, 10 Mar 2026 10:00:00 +0800")]),  # type: ignore[arg-type]
                {"Content-Type": "application/rss+xml"},
            )
        else:
            reply(h, 404, b"no")  # type: ignore[arg-type]

    srv.route("/f.xml", feed)
    srv.static("/b1", page("Back again"))
    feeds = write_feeds(tmp_path, [{"name": "Flaky", "url": srv.url("/f.xml")}])
    db = tmp_path / "o.db"
    for expected in (1, 2, 3):
        invoke("collect", "--feeds", str(feeds), "--db", str(db))
        assert feeds_json(feeds, db)["Flaky"]["consecutive_failures"] == expected
    # After the third failure the source backs off: the next run does not even ask.
    before = len(srv.hits("/f.xml"))
    _, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert "backing off until" in out and len(srv.hits("/f.xml")) == before
    rows(db, "SELECT 1")
    con = sqlite3.connect(db)
    con.execute("UPDATE sources SET backoff_until = NULL")
    con.commit()
    con.close()
    state["up"] = True
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    health = feeds_json(feeds, db)["Flaky"]
    assert health["status"] == "ok" and health["consecutive_failures"] == 0 and health["last_error"] is None


def test_entity_expansion_doctype_is_stripped(srv: HostileServer, tmp_path: Path) -> None:
    laughs = (
        '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c}{i} "' + f"&{c}{i - 1};" * 10 + '">' for c in "b" for i in range(1, 9)
        ).replace("&b0;", "&a;")
        + "]>"
    )
    body = rss([("Expansion &b8; attempt", srv.url("/e1"), "Mon, 09 Mar 2026 10:00:00 +0800")], extra=laughs)
    srv.static("/laughs.xml", body, "application/rss+xml")
    srv.static("/e1", page("Expansion attempt"))
    feeds = write_feeds(tmp_path, [{"name": "Laughs", "url": srv.url("/laughs.xml")}])
    db = tmp_path / "o.db"
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    (title_len,) = rows(db, "SELECT MAX(LENGTH(title) + LENGTH(summary)) FROM items")[0]
    assert title_len is not None and int(title_len) < 5000  # type: ignore[call-overload]


def test_links_dates_and_duplicates_are_normalised(srv: HostileServer, tmp_path: Path) -> None:
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{srv.url("/news/")}">
 <title>Atom</title><id>urn:x</id><updated>2026-03-09T10:00:00+08:00</updated>
 <entry><title>Relative link story</title><id>same</id><link href="rel-1.html"/>
   <published>2026-03-09T23:30:00+08:00</published><summary>A relative link resolved against xml:base.</summary></entry>
 <entry><title>Duplicate id story</title><id>same</id><link href="rel-2.html"/>
   <summary>Same id, different link: still its own item.</summary></entry>
 <entry><title>Same link again</title><id>other</id><link href="rel-1.html"/>
   <published>2026-03-09T23:30:00+08:00</published><summary>The same link twice is one item.</summary></entry>
 <entry><title>Script link</title><id>js</id><link href="javascript:alert(1)"/>
   <summary>Never followed.</summary></entry>
 <entry><title>Data link</title><id>data</id><link href="data:text/html,hi"/><summary>Never followed.</summary></entry>
 <entry><title>From the future</title><id>f</id><link href="future.html"/>
   <published>2031-01-01T00:00:00Z</published><summary>A date far in the future.</summary></entry>
</feed>""".encode()
    srv.route("/old-feed", lambda h: reply(h, 301, headers={"Location": "/atom.xml"}))
    srv.static("/atom.xml", feed, "application/atom+xml")
    for p in ("/news/rel-1.html", "/news/rel-2.html", "/news/future.html"):
        srv.static(p, page("Story " + p))
    feeds = write_feeds(tmp_path, [{"name": "Atom", "url": srv.url("/old-feed")}])
    db = tmp_path / "o.db"
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    got = {r[0]: r[1:] for r in rows(db, "SELECT url, published, date_estimated FROM items")}
    assert set(got) == {
        srv.url("/news/rel-1.html"),
        srv.url("/news/rel-2.html"),
        srv.url("/news/future.html"),
    }
    assert got[srv.url("/news/rel-1.html")] == ("2026-03-09T15:30:00+00:00", 0)  # zone kept, stored in UTC
    assert got[srv.url("/news/future.html")][1] == 1  # future date -> first seen, marked
    assert got[srv.url("/news/rel-2.html")][1] == 1  # no date -> first seen, marked
    assert not [r for r in srv.requests if "javascript" in r.path or "data:" in r.path]


def test_legacy_encodings_decode(srv: HostileServer, tmp_path: Path) -> None:
    title = "Монголия и Россия обсудили торговлю"
    feed = (
        f'<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Лента</title>'
        f"<item><title>{title}</title><link>{srv.url('/ru1')}</link>"
        "<pubDate>Mon, 09 Mar 2026 10:00:00 +0800</pubDate><description>Краткое описание новости о "
        "торговле между странами.</description></item></channel></rss>"
    ).encode("cp1251")
    srv.static("/ru.xml", feed, "application/rss+xml")
    html = ARTICLE.format(
        title=title, body="Улан-Батор и Москва обсудили вопросы торговли и транзита грузов."
    )
    html = html.replace('<meta charset="utf-8">', '<meta charset="windows-1251">')
    srv.static("/ru1", html.encode("cp1251"), "text/html")
    feeds = write_feeds(tmp_path, [{"name": "Ru", "url": srv.url("/ru.xml"), "language": "ru"}])
    db = tmp_path / "o.db"
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    ((stored_title, text),) = rows(db, "SELECT title, text FROM items")
    assert stored_title == title
    assert "Улан-Батор" in str(text) and "\ufffd" not in str(text)


def test_unusable_page_falls_back_to_the_feed_summary(srv: HostileServer, tmp_path: Path) -> None:
    srv.static(
        "/f.xml",
        rss(
            [
                ("Page is missing", srv.url("/gone"), "Mon, 09 Mar 2026 10:00:00 +0800"),
                ("Page is empty", srv.url("/blank"), "Mon, 09 Mar 2026 11:00:00 +0800"),
                ("Page is a PDF", srv.url("/doc.pdf"), "Mon, 09 Mar 2026 12:00:00 +0800"),
            ]
        ),
        "application/rss+xml",
    )
    srv.static("/blank", b"<html><body><nav>menu</nav></body></html>")
    srv.static("/doc.pdf", b"%PDF-1.4 ...", "application/pdf")
    feeds = write_feeds(tmp_path, [{"name": "F", "url": srv.url("/f.xml")}])
    db = tmp_path / "o.db"
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    got = {r[0]: r[1:] for r in rows(db, "SELECT title, extraction, extraction_note, text FROM items")}
    assert got["Page is missing"][0] == "summary" and "HTTP 404" in str(got["Page is missing"][1])
    assert got["Page is empty"][0] == "summary" and "text" in str(got["Page is empty"][1])
    assert got["Page is a PDF"][0] == "summary" and "not an HTML page" in str(got["Page is a PDF"][1])
    assert str(got["Page is missing"][2]).startswith("Summary of Page is missing")


def test_listing_page_heuristics_without_a_pattern(srv: HostileServer, tmp_path: Path) -> None:
    listing = """<html><body><header><a href="/about-us-and-contacts">About us and our contacts page</a></header>
<nav><a href="/news/2026/03/menu-link-looks-like-a-story">Menu link that looks like a story</a></nav>
<ul>
<li><a href="/news/2026/03/minister-visits-darkhan">Minister visits Darkhan to open new school</a> <time datetime="2026-03-09">9 March</time></li>
<li><a href="/news/2026/03/border-crossing-reopens">Border crossing at Zamyn-Uud reopens after repairs</a> <time datetime="2026-03-10">10 March</time></li>
<li><a href="/tag/politics">Politics</a></li>
<li><a href="javascript:void(0)">Load more stories from the archive please</a></li>
<li><a href="http://elsewhere.example/news/2026/03/other-site-story">Another site's story about the same topic</a></li>
</ul><footer><a href="/news/2026/03/privacy-policy-and-terms">Privacy policy and terms of use</a></footer></body></html>"""
    srv.static("/news/", listing.encode())
    srv.static("/news/2026/03/minister-visits-darkhan", page("Minister visits Darkhan"))
    srv.static("/news/2026/03/border-crossing-reopens", page("Border crossing reopens"))
    feeds = write_feeds(tmp_path, [{"name": "Listing", "url": srv.url("/news/"), "kind": "page"}])
    db = tmp_path / "o.db"
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    got = dict(rows(db, "SELECT url, substr(published, 1, 10) FROM items"))
    assert got == {
        srv.url("/news/2026/03/minister-visits-darkhan"): "2026-03-09",
        srv.url("/news/2026/03/border-crossing-reopens"): "2026-03-10",
    }


def _hang(html: bytes, url: str, zone_key: str) -> Article:
    if b"hang" in html:
        while True:
            pass
    return Article(url=url, title="ok", text="fine " * 50)


def test_a_page_that_hangs_extraction_is_stopped(tmp_path: Path) -> None:
    import asyncio

    async def go() -> tuple[str, str]:
        pool = ExtractorPool(1, timeout=1.0, fn=_hang)
        try:
            with pytest.raises(ExtractError, match="longer than 1 s"):
                await pool.extract(b"hang", "http://x/1", ZoneInfo("UTC"))
            after = await pool.extract(b"fine", "http://x/2", ZoneInfo("UTC"))
            return after.title, after.url
        finally:
            pool.close()

    assert asyncio.run(go()) == ("ok", "http://x/2")


def test_two_collects_on_one_store_cannot_overlap(tmp_path: Path) -> None:
    lock = tmp_path / "o.db.collect.lock"
    with exclusive_lock(lock, "collect on this database"):
        with pytest.raises(BusyError, match=f"pid {os.getpid()}"), exclusive_lock(lock, "again"):
            pass
        feeds = write_feeds(tmp_path, [{"name": "X", "url": "http://127.0.0.1:9/x.xml"}])
        code, out = invoke("collect", "--feeds", str(feeds), "--db", str(tmp_path / "o.db"))
        assert code == EXIT_BUSY and "another collect on this database is running" in out
    with exclusive_lock(lock, "collect on this database"):
        pass  # released when the holder is done


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True, check=True).stdout
    return [int(a) for a, b in (line.split() for line in out.splitlines()[1:]) if int(b) == pid]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead but not yet reaped by init
        return fh.read().split()[2] != "Z"


def test_kill_minus_nine_leaves_the_store_consistent(srv: HostileServer, tmp_path: Path) -> None:
    """A collect killed mid-run loses nothing stored and the next run completes it, once."""
    n = 12
    items = [
        (f"Story number {i} from Ulaanbaatar", srv.url(f"/k{i}"), "Mon, 09 Mar 2026 10:00:00 +0800")
        for i in range(n)
    ]
    srv.static("/a.xml", rss(items[:6]), "application/rss+xml")
    srv.static("/b.xml", rss(items[6:]), "application/rss+xml")
    for i in range(n):
        srv.static(f"/k{i}", page(f"Story number {i}"))
    requested, release = threading.Event(), threading.Event()

    def stuck(h: object) -> None:
        requested.set()
        release.wait(30)
        reply(h, 200, page("Story number 11"), {"Content-Type": "text/html"})  # type: ignore[arg-type]

    srv.route("/k11", stuck)
    feeds = write_feeds(
        tmp_path, [{"name": "A", "url": srv.url("/a.xml")}, {"name": "B", "url": srv.url("/b.xml")}]
    )
    db = tmp_path / "o.db"
    env = {**os.environ, "OSINT_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32", "OSINT_POLITENESS_DELAY": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "osint", "collect", "--feeds", str(feeds), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert requested.wait(60), "the collector never asked for the stuck page"
        # Source A (no stuck page) may or may not have committed; B is mid-flight.
        deadline = time.monotonic() + 30
        while len(rows(db, "SELECT 1 FROM items")) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # Its extraction workers notice and leave: a crashed collector leaves no orphans.
        deadline = time.monotonic() + 30
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "orphaned extraction workers"
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert len(rows(db, "SELECT 1 FROM items")) == 6  # A complete, B not at all
    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 0, out
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT url_key) FROM items") == [(n, n)]
    invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert rows(db, "SELECT COUNT(*) FROM items") == [(n,)]


def test_markup_in_errors_and_names_is_printed_literally(
    srv: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text from the web reaches the terminal as text: rich markup in it is not interpreted."""
    monkeypatch.setenv("COLUMNS", "400")
    srv.route("/x.xml", lambda h: reply(h, 302, headers={"Location": "ftp://[/]bad[red]/x"}))
    feeds = write_feeds(tmp_path, [{"name": "Odd [bold]name[/]", "url": srv.url("/x.xml")}])
    db = tmp_path / "o.db"
    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 0, out
    assert "Odd [bold]name[/]" in out.replace("\n", "")
    code, out = invoke("feeds", "--feeds", str(feeds), "--db", str(db))
    assert code == 0 and "ftp://[/]bad[red]/x" in out


def test_feed_warnings_and_unlinked_entries_are_reported(srv: HostileServer, tmp_path: Path) -> None:
    body = rss([("Linked story in Ulaanbaatar", srv.url("/l1"), "Mon, 09 Mar 2026 10:00:00 +0800")])
    body = body.replace(b"</channel>", b"<item><title>No link at all</title></item></channel>")
    srv.static("/w.xml", body, "application/rss+xml")
    srv.static("/l1", page("Linked story"))
    feeds = write_feeds(tmp_path, [{"name": "W", "url": srv.url("/w.xml")}])
    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(tmp_path / "o.db"))
    assert code == 0
    assert "1 entries without an http(s) link were skipped" in out


def test_a_broken_profile_stops_classification_only(srv: HostileServer, tmp_path: Path) -> None:
    """The profile is read when something needs classifying: a broken one is an error
    named for its file, the items are stored all the same, and once it is mended the
    next collect classifies them (a collect with nothing new never reads it)."""
    srv.static(
        "/feed.xml",
        rss([("Khural approves budget", srv.url("/a1"), "Mon, 09 Mar 2026 10:00:00 +0800")]),
        "application/rss+xml",
    )
    srv.static("/a1", page("Khural approves budget"))
    good = (PROJECT / "countries" / "mongolia.yaml").read_text(encoding="utf-8")
    profile = tmp_path / "mongolia.yaml"
    profile.write_text("code: [unclosed\n", encoding="utf-8")
    feeds = write_feeds(tmp_path, [{"name": "Good", "url": srv.url("/feed.xml")}])
    feeds.write_text(feeds.read_text().replace(str(PROJECT / "countries" / "mongolia.yaml"), str(profile)))
    db = tmp_path / "o.db"

    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 2, out
    said = " ".join(out.split())
    assert f"country profile {profile}: not valid YAML" in said
    assert "1 new item(s) stored unclassified" in said
    assert rows(db, "SELECT title, classified_with IS NULL FROM items") == [("Khural approves budget", 1)]

    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 2, out  # the stored, unclassified item still needs it

    profile.write_text(good, encoding="utf-8")
    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 0, out
    assert rows(db, "SELECT classified_with IS NULL FROM items") == [(0,)]
