"""Headlines and dates weighed from the feed and the page, collected from 127.0.0.1.

The pages imitate an old government CMS (written for these tests): the outlet's name in
the ``<h1>``, the headline in an ``<h2>`` and in the ``<title>`` before the site's name,
and a feed whose dates are the CMS's display format, which feedparser reads as another
day; the true date stands only in the page text ("Posted: …").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from osint.models import Article, Entry
from osint.pagemeta import choose_headline, page_candidates, reconcile, stated_date

from .conftest import PROJECT, invoke
from .hostile_server import HostileServer, hostile_server

ZONE = ZoneInfo("Asia/Ulaanbaatar")
OUTLET = "Press Service of the Government"


def cms_page(headline: str, posted: str) -> bytes:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{headline} - {OUTLET}</title></head><body>
<div id="masthead"><h1>{OUTLET}</h1></div>
<div class="newsitem"><h2>{headline}</h2><div class="info">Posted: {posted} | Views: 310</div>
<p>The Cabinet met on Friday and discussed the draft of next year's state budget for Mongolia, and asked
the Ministry of Finance to revise the spending plans of every ministry before the second reading.</p>
<p>The government will send the draft to the State Great Khural before the autumn session begins, as the
budget law requires, after a second discussion in the Cabinet.</p></div>
<div class="sidebar"><h3>Latest news</h3><ul><li>Meeting schedule</li></ul></div>
<div id="footer">{OUTLET}, Government House, Ulaanbaatar.</div></body></html>""".encode()


def test_the_headline_is_the_one_most_signals_agree_on_never_the_site() -> None:
    tree = lxml.html.fromstring(cms_page("Cabinet discusses the draft budget", "2024.09.06 10:00"))
    candidates, sites = page_candidates(tree, extracted_title=OUTLET)
    assert ("h2", "Cabinet discusses the draft budget") in candidates
    assert OUTLET in sites  # the masthead's <h1> and the footer's "©" name the site
    assert choose_headline(candidates, sites) == "Cabinet discusses the draft budget"
    # With the outlet's name known (feeds.yaml), a page of bare headings is safe too.
    assert choose_headline([("h1", OUTLET), ("h2", "Fuel deal signed")], [OUTLET]) == "Fuel deal signed"


def test_a_truncated_feed_title_supports_the_full_headline() -> None:
    candidates = [
        ("feed", "Mongolia and Russia sign fuel"),
        ("title", "Mongolia and Russia sign fuel supply agreement"),
        ("title", "Daily News"),
        ("h1", "Daily News"),
    ]
    assert choose_headline(candidates, []) == "Mongolia and Russia sign fuel supply agreement"


def test_the_stated_date_beats_a_misread_feed_date() -> None:
    tree = lxml.html.fromstring(cms_page("Cabinet discusses the draft budget", "2024.09.06 10:00"))
    posted = stated_date(tree, ZONE)
    assert posted == datetime(2024, 9, 6, 10, 0, tzinfo=ZONE)
    article = Article(url="http://x/1", title=OUTLET, text="t", published=posted, date_stated=True)
    misread = Entry(source=OUTLET, url="http://x/1", title="Cabinet discusses the draft budget",
                    published=datetime(2024, 12, 1, tzinfo=UTC))  # fmt: skip
    now = datetime(2024, 9, 8, tzinfo=UTC)
    assert reconcile(misread, article, now=now).published == posted
    # A feed date within a day of an unstated page guess stays.
    close = misread.model_copy(update={"published": datetime(2024, 9, 6, 1, tzinfo=UTC)})
    guessed = article.model_copy(update={"date_stated": False})
    assert reconcile(close, guessed, now=now).published == close.published
    assert reconcile(close, guessed, now=now).title == "Cabinet discusses the draft budget"


def test_dates_in_words_and_in_other_scripts() -> None:
    for text, want in [
        ("<p>Published: September 6, 2024</p>", datetime(2024, 9, 6, 12, tzinfo=ZONE)),
        ("<p>Опубликовано: 06.09.2024 14:30</p>", datetime(2024, 9, 6, 14, 30, tzinfo=ZONE)),
        ("<p>发布时间：2024年9月6日</p>", datetime(2024, 9, 6, 12, tzinfo=ZONE)),
        ("<p>Nothing dated here, only 2024.09.06 in passing.</p>", None),
    ]:
        assert stated_date(lxml.html.fromstring(f"<html><body>{text}</body></html>"), ZONE) == want, text


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with hostile_server() as s:
        yield s


def test_collect_stores_the_real_headline_and_the_posted_date(
    srv: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
    items = [
        ("/news/1", "Cabinet discusses the draft budget", "2024.09.06 10:00"),
        ("/news/2", "Winter preparedness plan approved", "2024.09.04 16:45"),
    ]
    rss = "".join(
        f"<item><title>{t}</title><link>{srv.url(p)}</link><pubDate>{d}</pubDate>"
        f"<description>{t}.</description></item>"
        for p, t, d in items
    )
    srv.static(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{OUTLET}</title>{rss}</channel></rss>'.encode(),
        "application/rss+xml",
    )
    for p, t, d in items:
        srv.static(p, cms_page(t, d), "text/html; charset=utf-8")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        f"country: {PROJECT / 'countries' / 'mongolia.yaml'}\nsources:\n"
        f"  - name: {OUTLET}\n    url: '{srv.url('/feed.xml')}'\n    country: MN\n"
    )
    db = tmp_path / "o.db"
    code, out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
    assert code == 0, out
    con = sqlite3.connect(db)
    try:
        got = dict(con.execute("SELECT title, published FROM items").fetchall())
    finally:
        con.close()
    assert set(got) == {t for _p, t, _d in items}
    assert got["Cabinet discusses the draft budget"] == "2024-09-06T02:00:00+00:00"  # 10:00 in Ulaanbaatar
    assert got["Winter preparedness plan approved"] == "2024-09-04T08:45:00+00:00"
