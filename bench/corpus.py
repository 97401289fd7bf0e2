"""A synthetic news web for the collection benchmark: outlets with feeds and article pages.

``build_corpus(spec, port)`` turns the articles of :mod:`bench.prose` into what a crawler
meets: N feeds (RSS 2.0, Atom, RSS 1.0/RDF; some with full text, some without GUIDs)
on N/2 outlets, and article pages of realistic weight (40-120 KB: inline CSS and
scripts, navigation, sidebars, related links, comments) in four kinds of markup (a
modern CMS with JSON-LD, WordPress, an old table layout with the date only in text,
a Bootstrap portal with microdata). Every outlet is its own host, ``<slug>.localhost``
(RFC 6761 reserves ``.localhost`` for loopback); :mod:`bench.launch` makes those names
resolve to 127.0.0.1 for the clients under test, and :mod:`bench.server` serves all
hosts on one port. Deterministic from the seed: the same spec and port give the same
bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from .prose import Outlet, Piece, make_outlets, write_pieces

SECTIONS = ("news", "politics", "business", "world", "society", "security")
_UTC_OFFSET = {"MN": 8, "ru": 3}


@dataclass(frozen=True)
class CorpusSpec:
    """What to generate: ``feeds`` feeds of ``pages_per_feed`` articles each, over ``weeks`` weeks."""

    feeds: int = 50
    pages_per_feed: int = 24
    seed: int = 7
    end: date = date(2026, 3, 13)
    weeks: int = 6
    hosts: int = 0
    """Outlets (hosts) the feeds are spread over; 0: two feeds per outlet."""
    weight: float = 1.0
    """Scales each page's boilerplate (inline CSS and scripts); 1.0 gives pages of 40-120 KB."""

    @property
    def pages(self) -> int:
        return self.feeds * self.pages_per_feed

    @property
    def start(self) -> datetime:
        return datetime.combine(self.end - timedelta(weeks=self.weeks) + timedelta(days=1), time(0), UTC)


@dataclass(frozen=True)
class Resource:
    """One URL's response, ready to send."""

    kind: str
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    gzipped: bytes | None = None


@dataclass(frozen=True)
class Feed:
    outlet: Outlet
    section: str
    path: str
    pieces: tuple[Piece, ...]


@dataclass
class Corpus:
    """The generated sites, addressed through one port on 127.0.0.1."""

    spec: CorpusSpec
    port: int
    outlets: list[Outlet]
    feeds: list[Feed]
    pieces: list[Piece]
    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    paths: dict[tuple[int, int], str] = field(default_factory=dict)

    def host(self, outlet: Outlet) -> str:
        return f"{outlet.slug}.localhost"

    def url(self, outlet: Outlet, path: str) -> str:
        return f"http://{self.host(outlet)}:{self.port}{path}"

    def piece_url(self, piece: Piece) -> str:
        return self.url(piece.outlet, self.paths[(piece.outlet.index, piece.number)])

    def feed_urls(self) -> list[str]:
        return [self.url(f.outlet, f.path) for f in self.feeds]

    def page_count(self) -> int:
        return sum(1 for r in self.resources.values() if r.kind == "page")

    def feeds_yaml(self, country_profile: Path) -> str:
        """A ``feeds.yaml`` listing every feed, for ``osint collect``."""
        lines = [f"country: {json.dumps(str(country_profile))}", "sources:"]
        for f in self.feeds:
            o = f.outlet
            lines += [
                f"  - name: {json.dumps(f'{o.name} ({f.section})', ensure_ascii=False)}",
                f"    url: {self.url(o, f.path)}",
                "    kind: feed",
                f"    language: {o.language}",
                f"    reliability: {o.reliability}",
            ]
            if o.country:
                lines.append(f"    country: {o.country}")
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- helpers


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _zone(outlet: Outlet) -> timezone:
    hours = _UTC_OFFSET.get(outlet.country or "", _UTC_OFFSET.get(outlet.language, 0))
    return timezone(timedelta(hours=hours))


def local_time(piece: Piece) -> datetime:
    """When the outlet says the piece was published, in its own time zone."""
    return piece.published.astimezone(_zone(piece.outlet))


def _path_for(piece: Piece, section: str) -> str:
    d = local_time(piece)
    layout = piece.outlet.layout
    if layout == "cms":
        return f"/{section}/{d:%Y/%m/%d}/{piece.slug}"
    if layout == "wordpress":
        return f"/{d:%Y/%m/%d}/{piece.slug}/"
    if layout == "legacy":
        return f"/news/{section}/{piece.outlet.index * 10000 + piece.number}-{piece.slug}.html"
    return f"/article/{piece.slug}"


def _feed_path(outlet: Outlet, section: str) -> str:
    if outlet.layout == "wordpress":
        return f"/category/{section}/feed/"
    return {"rss": f"/rss/{section}.xml", "atom": f"/{section}/atom.xml", "rdf": f"/{section}/index.rdf"}[
        outlet.feed_format
    ]


@dataclass(frozen=True)
class _Chrome:
    """What every page of one outlet shares: styles, scripts, navigation, footer."""

    css: str
    script: str
    config: str
    nav: str
    footer: str
    sidebar_extra: str


_CSS_WORDS = (
    "header nav menu item link active brand logo grid row col card title meta byline share social icon "
    "footer widget banner promo ad slot cookie consent modal overlay button primary secondary tag list "
    "teaser media figure caption video gallery search input form field label sticky top bottom"
).split()


def _chrome(outlet: Outlet, seed: int, weight: float = 1.0) -> _Chrome:
    rng = random.Random(f"chrome-{seed}-{outlet.index}")
    rules = []
    for i in range(int(rng.randrange(180, 520) * weight)):
        sel = f".{rng.choice(_CSS_WORDS)}-{rng.choice(_CSS_WORDS)}{i % 7 or ''}"
        rules.append(
            f"{sel}{{margin:{rng.randrange(0, 24)}px {rng.randrange(0, 24)}px;padding:{rng.randrange(0, 16)}px;"
            f"color:#{rng.randrange(0x1000000):06x};font-size:{rng.randrange(10, 28)}px}}"
        )
    config = {
        f"{rng.choice(_CSS_WORDS)}_{i}": rng.choice([True, False, rng.randrange(1000), "on"])
        for i in range(120)
    }
    funcs = [
        f"function {rng.choice(_CSS_WORDS)}{i}(e,t){{var n=e&&e[{i % 9}];if(!n)return t;"
        f"for(var r=0;r<n.length;r++)t+=n.charCodeAt(r)%{rng.randrange(3, 97)};return t}}"
        for i in range(int(rng.randrange(80, 260) * weight))
    ]
    sections = list(SECTIONS) + [f"{w}-{i}" for i, w in enumerate(rng.sample(_CSS_WORDS, 24))]
    nav_links = "".join(
        f'<li class="menu-item"><a href="/{s}/">{_esc(s.replace("-", " ").title())}</a>'
        + (
            '<ul class="sub-menu">'
            + "".join(f'<li><a href="/{s}/{w}/">{w.title()}</a></li>' for w in rng.sample(_CSS_WORDS, 4))
            + "</ul>"
            if rng.random() < 0.5
            else ""
        )
        + "</li>"
        for s in sections
    )
    footer_links = "".join(
        f'<li><a href="/{w}/{i}">{w.title()} {i}</a></li>' for i, w in enumerate(rng.sample(_CSS_WORDS, 40))
    )
    extra = "".join(
        f'<div class="widget promo-{i}"><a href="/promo/{i}"><img src="/static/banner-{i}.jpg" '
        f'alt="Advertisement"></a></div>'
        for i in range(rng.randrange(2, 6))
    )
    return _Chrome(
        css="".join(rules),
        script=";".join(funcs),
        config=json.dumps(config, separators=(",", ":")),
        nav=f'<nav class="main-nav" aria-label="Main"><ul class="menu">{nav_links}</ul></nav>',
        footer=(
            f'<footer class="site-footer"><ul class="footer-links">{footer_links}</ul>'
            f"<p>&copy; {outlet.name}. All rights reserved. Reproduction without permission is prohibited.</p>"
            "</footer>"
        ),
        sidebar_extra=extra,
    )


_COMMENTS = (
    "Finally some good news.",
    "Who is going to pay for this? The same people as always.",
    "I live nearby and nobody told us anything.",
    "Good article, thank you for the details.",
    "This has been promised many times before.",
    "The government should publish the full contract.",
)


# --------------------------------------------------------------------------- pages


def _body_html(piece: Piece, rng: random.Random, read_also: Sequence[tuple[str, str]]) -> str:
    parts = []
    for i, para in enumerate(piece.paragraphs):
        if i and i % 4 == 0 and rng.random() < 0.4 and piece.language == "en":
            parts.append(f"<h2>{_esc(para.split('.')[0][:60])}</h2>")
        if para.startswith('"') and rng.random() < 0.5:
            parts.append(f"<blockquote><p>{_esc(para)}</p></blockquote>")
        else:
            parts.append(f"<p>{_esc(para)}</p>")
        if i == 2 and read_also:
            url, title = read_also[0]
            parts.append(f'<div class="read-also">Read also: <a href="{_esc(url)}">{_esc(title)}</a></div>')
    return "\n".join(parts)


def _links(items: Sequence[tuple[str, str]], tag: str = "li") -> str:
    return "".join(f'<{tag}><a href="{_esc(u)}">{_esc(t)}</a></{tag}>' for u, t in items)


def _head(piece: Piece, url: str, feed_url: str, chrome: _Chrome, meta: bool) -> str:
    d = local_time(piece)
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(piece.title)} | {_esc(piece.outlet.name)}</title>",
        f'<link rel="alternate" type="application/rss+xml" href="{_esc(feed_url)}">',
        f"<style>{chrome.css}</style>",
        f"<script>window.__SITE_CONFIG__={chrome.config};</script>",
    ]
    if meta:
        lines += [
            f'<meta name="description" content="{_esc(piece.lead[:200])}">',
            f'<meta property="og:title" content="{_esc(piece.title)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:url" content="{_esc(url)}">',
            f'<meta property="og:site_name" content="{_esc(piece.outlet.name)}">',
            f'<meta property="article:published_time" content="{d.isoformat()}">',
            f'<meta name="author" content="{_esc(piece.author)}">',
            f'<link rel="canonical" href="{_esc(url)}">',
        ]
    return "\n".join(lines)


def _page_cms(piece: Piece, url: str, feed_url: str, chrome: _Chrome, ctx: _PageContext) -> str:
    d = local_time(piece)
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": piece.title,
        "datePublished": d.isoformat(),
        "dateModified": d.isoformat(),
        "author": {"@type": "Person", "name": piece.author},
        "publisher": {"@type": "Organization", "name": piece.outlet.name},
        "mainEntityOfPage": url,
    }
    return f"""<!DOCTYPE html>
<html lang="{piece.language}">
<head>
{_head(piece, url, feed_url, chrome, meta=True)}
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head>
<body class="article-page">
<div class="cookie-banner" role="dialog"><p>We use cookies to personalise content and ads.</p>
<button class="btn-accept">Accept all</button><a href="/privacy">Settings</a></div>
<header class="site-header"><div class="brand"><a class="logo" href="/">{_esc(piece.outlet.name)}</a></div>
{chrome.nav}
<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>
<div class="ad-slot" id="ad-top"></div>
<main id="main" class="layout">
<article class="story">
<header class="story-header"><p class="kicker">{_esc(ctx.section.title())}</p>
<h1 class="headline">{_esc(piece.title)}</h1>
<div class="byline">By <a rel="author" href="/authors/{_esc(piece.author.lower().replace(" ", "-"))}">{_esc(piece.author)}</a>
<time datetime="{d.isoformat()}">{d:%d %B %Y, %H:%M}</time></div></header>
<figure class="lead-image"><img src="/images/{piece.slug}.jpg" alt="">
<figcaption>Photo: {_esc(piece.outlet.name)}</figcaption></figure>
<div class="article-body" itemprop="articleBody">
{_body_html(piece, ctx.rng, ctx.read_also)}
</div>
<div class="share"><a href="/share/fb">Facebook</a> <a href="/share/x">X</a> <a href="/share/mail">Email</a></div>
<aside class="related"><h3>Related stories</h3><ul>{_links(ctx.related)}</ul></aside>
</article>
<aside class="sidebar"><section class="most-read"><h3>Most read</h3><ol>{_links(ctx.most_read)}</ol></section>
{chrome.sidebar_extra}
<section class="newsletter"><h3>Newsletter</h3><form><input type="email" placeholder="Your email">
<button>Subscribe</button></form></section></aside>
</main>
{chrome.footer}
<script>{chrome.script}</script>
</body>
</html>
"""


def _page_wordpress(piece: Piece, url: str, feed_url: str, chrome: _Chrome, ctx: _PageContext) -> str:
    d = local_time(piece)
    rng = ctx.rng
    comments = "".join(
        f'<li class="comment" id="comment-{i}"><div class="comment-author vcard"><cite class="fn">'
        f'reader{rng.randrange(1000)}</cite></div><div class="comment-meta">{d:%B %d, %Y}</div>'
        f"<p>{_esc(rng.choice(_COMMENTS))}</p></li>"
        for i in range(rng.randrange(0, 7))
    )
    archives = _links([(f"/{d.year}/{m:02d}/", f"{d.year}-{m:02d}") for m in range(1, 13)])
    return f"""<!DOCTYPE html>
<html lang="{piece.language}">
<head>
{_head(piece, url, feed_url, chrome, meta=True)}
</head>
<body class="post-template-default single single-post">
<div id="page" class="hfeed site">
<header id="masthead" class="site-header"><p class="site-title"><a href="/" rel="home">{_esc(piece.outlet.name)}</a></p>
{chrome.nav}</header>
<div id="content" class="site-content">
<div id="primary" class="content-area"><main id="main" class="site-main">
<article id="post-{piece.outlet.index * 10000 + piece.number}" class="post type-post status-publish hentry">
<header class="entry-header"><h1 class="entry-title">{_esc(piece.title)}</h1>
<div class="entry-meta"><span class="posted-on">Posted on <time class="entry-date published" datetime="{d.isoformat()}">{d:%B %d, %Y}</time></span>
<span class="byline"> by <span class="author vcard">{_esc(piece.author)}</span></span></div></header>
<div class="entry-content">
{_body_html(piece, rng, ctx.read_also)}
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/{ctx.section}/">{ctx.section}</a></span>
<span class="tags-links">{" ".join(f'<a href="/tag/{t.lower()}/" rel="tag">{_esc(t)}</a>' for t in piece.tags)}</span></footer>
</article>
<nav class="post-navigation"><div class="nav-links">{_links(ctx.related[:2], "div")}</div></nav>
<div id="comments" class="comments-area"><ol class="comment-list">{comments}</ol>
<div id="respond"><h3>Leave a Reply</h3><form id="commentform"><textarea name="comment"></textarea>
<input type="submit" value="Post Comment"></form></div></div>
</main></div>
<div id="secondary" class="widget-area"><section class="widget widget_recent_entries"><h2>Recent Posts</h2>
<ul>{_links(ctx.most_read)}</ul></section><section class="widget widget_archive"><h2>Archives</h2><ul>{archives}</ul></section>
{chrome.sidebar_extra}</div>
</div>
{chrome.footer}
<script>{chrome.script}</script>
</div>
</body>
</html>
"""


def _page_legacy(piece: Piece, url: str, feed_url: str, chrome: _Chrome, ctx: _PageContext) -> str:
    d = local_time(piece)
    text = "<br><br>\n".join(_esc(p) for p in piece.paragraphs)
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html>
<head>
{_head(piece, url, feed_url, chrome, meta=False)}
</head>
<body bgcolor="#ffffff" topmargin="0">
<table width="100%" border="0" cellpadding="0" cellspacing="0">
<tr><td colspan="3" class="top"><a href="/"><b>{_esc(piece.outlet.name)}</b></a> {chrome.nav}</td></tr>
<tr>
<td width="180" valign="top" class="left-menu"><ul>{_links(ctx.most_read)}</ul>{chrome.sidebar_extra}</td>
<td valign="top" class="content">
<div class="path"><a href="/">Home</a> &raquo; <a href="/news/{ctx.section}/">{_esc(ctx.section.title())}</a></div>
<div class="news-title"><h2>{_esc(piece.title)}</h2></div>
<div class="news-date">{d:%d.%m.%Y %H:%M} | {_esc(piece.author)}</div>
<div class="news-text">
{text}
</div>
<div class="news-more"><b>Other news:</b><ul>{_links(ctx.related)}</ul></div>
</td>
<td width="200" valign="top" class="right"><div class="counter">Visitors today: {ctx.rng.randrange(100, 9999)}</div></td>
</tr>
<tr><td colspan="3">{chrome.footer}</td></tr>
</table>
<script>{chrome.script}</script>
</body>
</html>
"""


def _page_portal(piece: Piece, url: str, feed_url: str, chrome: _Chrome, ctx: _PageContext) -> str:
    d = local_time(piece)
    tags = "".join(f'<li><a href="/tag/{_esc(t.lower())}">#{_esc(t)}</a></li>' for t in piece.tags)
    return f"""<!DOCTYPE html>
<html lang="{piece.language}">
<head>
{_head(piece, url, feed_url, chrome, meta=True)}
</head>
<body>
<div class="navbar navbar-expand-lg"><div class="container"><a class="navbar-brand" href="/">{_esc(piece.outlet.name)}</a>
{chrome.nav}</div></div>
<div class="container"><div class="row">
<div class="col-lg-8">
<article itemscope itemtype="https://schema.org/NewsArticle">
<meta itemprop="datePublished" content="{d.isoformat()}">
<ol class="breadcrumb"><li><a href="/">Home</a></li><li>{_esc(ctx.section.title())}</li></ol>
<h1 itemprop="headline">{_esc(piece.title)}</h1>
<div class="article-meta"><span class="date">{d:%d/%m/%Y %H:%M}</span>
<span class="author" itemprop="author">{_esc(piece.author)}</span></div>
<div class="article-text" itemprop="articleBody">
{_body_html(piece, ctx.rng, ctx.read_also)}
</div>
<ul class="tags">{tags}</ul>
<div class="subscribe-box">Follow us on social media for the latest news.</div>
</article>
<section class="more-news"><h3>More news</h3><div class="row">
{"".join(f'<div class="col-md-4 card"><a href="{_esc(u)}"><h4>{_esc(t)}</h4></a></div>' for u, t in ctx.related)}
</div></section>
</div>
<div class="col-lg-4"><div class="popular"><h3>Popular</h3><ul>{_links(ctx.most_read)}</ul></div>
{chrome.sidebar_extra}</div>
</div></div>
{chrome.footer}
<script>{chrome.script}</script>
</body>
</html>
"""


@dataclass(frozen=True)
class _PageContext:
    section: str
    rng: random.Random
    related: list[tuple[str, str]]
    most_read: list[tuple[str, str]]
    read_also: list[tuple[str, str]]


_PageWriter = Callable[[Piece, str, str, _Chrome, _PageContext], str]
_LAYOUT_WRITERS: dict[str, _PageWriter] = {
    "cms": _page_cms,
    "wordpress": _page_wordpress,
    "legacy": _page_legacy,
    "portal": _page_portal,
}


# --------------------------------------------------------------------------- feeds


def _feed(corpus: Corpus, feed: Feed) -> str:
    o = feed.outlet
    url = corpus.url(o, feed.path)
    home = corpus.url(o, "/")
    title = f"{o.name} - {feed.section.title()}"
    newest = local_time(feed.pieces[0]) if feed.pieces else datetime.combine(corpus.spec.end, time(0), UTC)
    full_text = o.layout == "wordpress"
    with_guid = o.index % 5 != 3
    if o.feed_format == "atom" and o.layout != "wordpress":
        entries = []
        for p in feed.pieces:
            d = local_time(p).isoformat()
            entries.append(
                f"<entry><title>{_esc(p.title)}</title>"
                f'<link rel="alternate" type="text/html" href="{_esc(corpus.piece_url(p))}"/>'
                f"<id>tag:{corpus.host(o)},{p.published:%Y}:{o.index}-{p.number}</id>"
                f"<published>{d}</published><updated>{d}</updated>"
                f"<author><name>{_esc(p.author)}</name></author>"
                f'<summary type="html">{_esc(f"<p>{html.escape(p.lead)}</p>")}</summary></entry>'
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{o.language}">'
            f"<title>{_esc(title)}</title>"
            f'<link rel="self" href="{_esc(url)}"/><link rel="alternate" href="{_esc(home)}"/>'
            f"<id>{_esc(url)}</id><updated>{newest.isoformat()}</updated>\n"
            + "\n".join(entries)
            + "\n</feed>\n"
        )
    if o.feed_format == "rdf" and o.layout != "wordpress":
        seq = "".join(f'<rdf:li rdf:resource="{_esc(corpus.piece_url(p))}"/>' for p in feed.pieces)
        rdf_items = "\n".join(
            f'<item rdf:about="{_esc(corpus.piece_url(p))}"><title>{_esc(p.title)}</title>'
            f"<link>{_esc(corpus.piece_url(p))}</link><description>{_esc(p.lead)}</description>"
            f"<dc:date>{local_time(p).isoformat()}</dc:date><dc:creator>{_esc(p.author)}</dc:creator></item>"
            for p in feed.pieces
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="{_esc(url)}"><title>{_esc(title)}</title><link>{_esc(home)}</link>'
            f"<description>{_esc(title)}</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>\n"
            f"{rdf_items}\n</rdf:RDF>\n"
        )
    items = []
    for p in feed.pieces:
        link = corpus.piece_url(p)
        guid = f'<guid isPermaLink="true">{_esc(link)}</guid>' if with_guid else ""
        content = (
            "<content:encoded><![CDATA["
            + "".join(f"<p>{html.escape(x)}</p>" for x in p.paragraphs)
            + "]]></content:encoded>"
            if full_text
            else ""
        )
        items.append(
            f"<item><title>{_esc(p.title)}</title><link>{_esc(link)}</link>{guid}"
            f"<pubDate>{format_datetime(local_time(p))}</pubDate><dc:creator>{_esc(p.author)}</dc:creator>"
            f"<category>{_esc(feed.section)}</category><description>{_esc(p.lead)}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{_esc(title)}</title><link>{_esc(home)}</link><description>{_esc(title)}</description>"
        f"<language>{o.language}</language><lastBuildDate>{format_datetime(newest)}</lastBuildDate>"
        f'<atom:link href="{_esc(url)}" rel="self" type="application/rss+xml"/>\n'
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def _home(corpus: Corpus, outlet: Outlet, feeds: Sequence[Feed], pieces: Sequence[Piece]) -> str:
    alternates = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="{_esc(corpus.url(outlet, f.path))}">'
        for f in feeds
    )
    teasers = "".join(
        f'<div class="teaser"><a href="{_esc(corpus.piece_url(p))}">{_esc(p.title)}</a>'
        f'<time datetime="{local_time(p):%Y-%m-%d}">{local_time(p):%d %B %Y}</time></div>'
        for p in pieces[:30]
    )
    return (
        f'<!DOCTYPE html><html lang="{outlet.language}"><head><meta charset="utf-8">'
        f"<title>{_esc(outlet.name)}</title>{alternates}</head><body><h1>{_esc(outlet.name)}</h1>"
        f"{teasers}</body></html>\n"
    )


# --------------------------------------------------------------------------- assembly


def _resource(kind: str, text: str, content_type: str, modified: datetime, compress: bool) -> Resource:
    body = text.encode("utf-8")
    etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    return Resource(
        kind=kind,
        body=body,
        content_type=content_type,
        etag=etag,
        last_modified=format_datetime(modified.astimezone(UTC), usegmt=True),
        gzipped=gzip.compress(body, compresslevel=6, mtime=0) if compress else None,
    )


def build_corpus(spec: CorpusSpec, port: int, *, compress: bool = True) -> Corpus:
    """Generate every outlet's feeds, pages and home page for sites served on ``port``."""
    rng = random.Random(spec.seed)
    n_outlets = spec.hosts or (spec.feeds + 1) // 2
    outlets = make_outlets(n_outlets, rng)
    if spec.hosts:
        feeds_of = [spec.feeds // n_outlets + (i < spec.feeds % n_outlets) for i in range(n_outlets)]
        if max(feeds_of) >= len(SECTIONS):
            raise ValueError(f"at most {len(SECTIONS) - 1} feeds per host")
    else:
        feeds_of = [2] * n_outlets
        if spec.feeds % 2:
            feeds_of[-1] = 1
    per_outlet = [n * spec.pages_per_feed for n in feeds_of]
    written = write_pieces(outlets, per_outlet, rng, spec.start, spec.weeks * 7)
    corpus = Corpus(spec=spec, port=port, outlets=outlets, feeds=[], pieces=[])
    for outlet, n_feeds, pieces in zip(outlets, feeds_of, written, strict=True):
        sections = list(SECTIONS[: n_feeds + 1])
        random.Random(f"sections-{spec.seed}-{outlet.index}").shuffle(sections)
        for k in range(n_feeds):
            feed = Feed(outlet, sections[k], _feed_path(outlet, sections[k]), tuple(pieces[k::n_feeds]))
            corpus.feeds.append(feed)
            for p in feed.pieces:
                corpus.paths[(outlet.index, p.number)] = _path_for(p, feed.section)
        corpus.pieces.extend(pieces)
    for outlet, pieces in zip(outlets, written, strict=True):
        chrome = _chrome(outlet, spec.seed, spec.weight)
        host = corpus.host(outlet)
        own = [f for f in corpus.feeds if f.outlet.index == outlet.index]
        section_of = {p.number: f.section for f in own for p in f.pieces}
        links = [(corpus.piece_url(p), p.title) for p in pieces]
        for i, p in enumerate(pieces):
            prng = random.Random(f"page-{spec.seed}-{outlet.index}-{p.number}")
            ctx = _PageContext(
                section=section_of[p.number],
                rng=prng,
                related=[links[(i + k) % len(links)] for k in (1, 2, 3, 5) if len(links) > 1],
                most_read=links[:10],
                read_also=[links[(i + 7) % len(links)]],
            )
            url = corpus.piece_url(p)
            feed = next(f for f in own if f.section == ctx.section)
            page = _LAYOUT_WRITERS[outlet.layout](p, url, corpus.url(outlet, feed.path), chrome, ctx)
            corpus.resources[(host, corpus.paths[(outlet.index, p.number)])] = _resource(
                "page", page, "text/html; charset=utf-8", p.published, compress
            )
        for f in own:
            ctype = {"atom": "application/atom+xml", "rdf": "application/rdf+xml"}.get(
                "rss" if outlet.layout == "wordpress" else outlet.feed_format, "application/rss+xml"
            )
            newest = f.pieces[0].published if f.pieces else spec.start
            corpus.resources[(host, f.path)] = _resource(
                "feed", _feed(corpus, f), f"{ctype}; charset=utf-8", newest, compress
            )
        corpus.resources[(host, "/")] = _resource(
            "home", _home(corpus, outlet, own, pieces), "text/html; charset=utf-8", spec.start, compress
        )
    return corpus


def write_corpus(corpus: Corpus, dest: Path) -> int:
    """Write every resource under ``dest/<host>/<path>`` (for looking at it); returns the file count."""
    n = 0
    for (host, path), res in corpus.resources.items():
        rel = path.strip("/") or "index.html"
        if path.endswith("/"):
            rel = f"{rel}/index.html" if rel != "index.html" else rel
        target = dest / host / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(res.body)
        n += 1
    return n


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.corpus --out DIR``: write a corpus to disk to look at it."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--feeds", type=int, default=CorpusSpec.feeds)
    parser.add_argument("--pages-per-feed", type=int, default=CorpusSpec.pages_per_feed)
    parser.add_argument("--seed", type=int, default=CorpusSpec.seed)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    spec = CorpusSpec(feeds=args.feeds, pages_per_feed=args.pages_per_feed, seed=args.seed)
    corpus = build_corpus(spec, args.port, compress=False)
    n = write_corpus(corpus, args.out)
    print(f"{n} files ({corpus.page_count()} article pages, {len(corpus.feeds)} feeds) under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
