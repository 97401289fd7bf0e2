"""An article's headline and date, weighed from the feed entry and the page. Pure.

Neither source can be trusted alone. An old CMS puts the outlet's own name in the page's
``<h1>`` and the headline in an ``<h2>``; the page ``<title>`` is "Headline - Press
Service of …"; trafilatura may take either. A feed's date may be a CMS display format
(``2024.09.06 10:00``) that a feed parser misreads as another day, while the page states
the true one ("Posted: 2024.09.06 10:00").

So the page yields *candidates*: ``og:title``, the ``<title>`` split at its separators,
the headings and trafilatura's title, plus the names the site goes by (``og:site_name``,
the part of the ``<title>`` that is not the headline, the outlet's name in feeds.yaml).
The headline is the candidate most others agree with, never a site name. The date the
page *states* (its metadata or a "Posted:/Published:" line) wins over a feed date that
is missing, in the future or more than a day away from it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the collector's main process reconciles without parsing any page
    from lxml import etree

from .models import Article, Entry
from .text import MONTH_PATTERN, MONTHS, fold_space, words

# Where a candidate came from, in the order that breaks ties between equally supported ones.
ORIGINS = ("og:title", "feed", "title", "h1", "h2", "extracted")
MIN_WORDS = 2
MAX_WORDS = 40
MAX_HEADINGS = 4
FEED_PAGE_TOLERANCE = timedelta(days=1, hours=12)
_SEPARATOR = re.compile(r"\s+(?:[-–—|·•»:]|::)\s+")
_MASTHEAD = re.compile(
    r"\b(?:masthead|logo|brand(?:ing)?|site-?(?:name|title|header|branding)|banner|top-?bar)\b"
)
_COPYRIGHT = re.compile(r"(?:©|&copy;|\(c\)|copyright)\s*(?:\d{4}\s*)?([^.,|\n©]{3,80})", re.IGNORECASE)

_LABEL = (
    r"(?:posted|published|date|updated|created|нийтэлсэн|нийтлэгдсэн|огноо|опубликовано|"
    r"дата публикации|дата|发布时间|发布日期|发表时间|日期|时间)"
)
_NUMERIC = (
    r"(?P<y>(?:19|20)\d\d)\s*[./\-年]\s*(?P<m>\d{1,2})\s*[./\-月]\s*(?P<d>\d{1,2})日?"
    r"|(?P<d2>\d{1,2})[./](?P<m2>\d{1,2})[./](?P<y2>(?:19|20)\d\d)"
)
_WORDS = (
    rf"(?P<mn>{MONTH_PATTERN})\.? (?P<dn>\d{{1,2}}),? (?P<yn>(?:19|20)\d\d)"
    rf"|(?P<dw>\d{{1,2}}) (?P<mw>{MONTH_PATTERN})\.?,? (?P<yw>(?:19|20)\d\d)"
)
_TIME = r"(?:[T\s,]+(?P<hh>\d{1,2}):(?P<mi>\d\d))?"
_STATED = re.compile(rf"\b{_LABEL}\s*[:：]?\s*(?:{_NUMERIC}|{_WORDS}){_TIME}", re.IGNORECASE)
_META_DATES = ("article:published_time", "og:published_time", "datepublished", "dc.date", "pubdate", "date")


def _norm(text: str) -> str:
    return " ".join(words(unicodedata.normalize("NFKC", text)))


def _clean(text: str) -> str:
    return fold_space(text)


def _agree(a: str, b: str) -> bool:
    """Two headlines tell the same title: equal, or one is the other cut short."""
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    short, long_ = sorted((na, nb), key=len)
    return long_.startswith(short) and len(short.split()) >= max(MIN_WORDS + 1, len(long_.split()) // 2)


def title_parts(title: str) -> list[str]:
    """The page ``<title>`` split at its separators ("Headline - Site" -> both parts)."""
    return [p.strip() for p in _SEPARATOR.split(title) if p.strip()]


def page_text(tree: etree._Element) -> str:
    """All the text of a parsed page, joined (what the copyright and stated-date searches read)."""
    return " ".join(tree.itertext()) if hasattr(tree, "itertext") else ""


def page_candidates(
    tree: etree._Element, extracted_title: str, whole_text: str | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Headline candidates (origin, text) of a parsed page and the names the site goes by.

    ``whole_text`` is :func:`page_text` of ``tree`` when the caller has it already.
    """
    candidates: list[tuple[str, str]] = []
    sites: list[str] = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = _clean(meta.get("content") or "")
        if not content:
            continue
        if key in ("og:title", "twitter:title"):
            candidates.append(("og:title", content))
        elif key in ("og:site_name", "application-name", "twitter:site"):
            sites.append(content.lstrip("@"))
    for el in tree.iter("title"):
        whole = _clean(el.text_content() if hasattr(el, "text_content") else el.text or "")
        # Each part stands alone: "Headline - Site" gives the headline and the site's name.
        candidates.extend(("title", p) for p in title_parts(whole))
        break
    for tag in ("h1", "h2"):
        for n, el in enumerate(tree.iter(tag)):
            if n >= MAX_HEADINGS:
                break
            text = _clean(el.text_content()) if hasattr(el, "text_content") else ""
            if not text:
                continue
            if _in_masthead(el):
                sites.append(text)  # a heading in the page's header or logo is the site's name
            else:
                candidates.append((tag, text))
    sites.extend(_copyright_names(page_text(tree) if whole_text is None else whole_text))
    if extracted_title:
        candidates.append(("extracted", _clean(extracted_title)))
    return candidates, sites


def _in_masthead(el: etree._Element) -> bool:
    """Inside the site's masthead, logo or branding, and not inside the article."""
    marked = False
    node: etree._Element | None = el
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("article", "main"):
            return False
        marks = f"{node.get('id') or ''} {node.get('class') or ''} {node.get('role') or ''}".lower()
        marked = marked or bool(_MASTHEAD.search(marks))
        node = node.getparent()
    return marked


def _copyright_names(text: str) -> list[str]:
    """Names after "©" in a page's text (a site names itself in its footer)."""
    return [_clean(m.group(1)) for m in _COPYRIGHT.finditer(text)][:3]


def choose_headline(candidates: Sequence[tuple[str, str]], site_names: Iterable[str]) -> str:
    """The candidate most of the others agree with that is not a name of the site.

    A ``<title>`` part that no other candidate supports while another part is supported
    is the site's suffix; so is any candidate equal to a known site or outlet name.
    """
    sites = {_norm(s) for s in site_names if _norm(s)}
    usable = [
        (origin, text)
        for origin, text in candidates
        if text and _norm(text) not in sites and MIN_WORDS <= len(_norm(text).split()) <= MAX_WORDS
    ]
    if not usable:
        named = [text for _o, text in candidates if text]
        return named[0] if named else ""

    def support(text: str, origin: str) -> int:
        # Each other origin counts once: three headings saying the same are one voice.
        return len({o for o, t in usable if o != origin and _agree(t, text)})

    def key(ot: tuple[str, str]) -> tuple[int, int, int]:
        # Most support first; among equals the fuller text (a feed title cut short agrees
        # with the whole headline), then the more trusted origin.
        origin, text = ot
        return (-support(text, origin), -len(_norm(text).split()), ORIGINS.index(origin))

    best = min(usable, key=key)
    return best[1]


def json_ld_objects(tree: etree._Element) -> Iterator[dict[str, object]]:
    """Every JSON object inside the page's JSON-LD scripts, nested ones included."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            stack: list[object] = [json.loads(script.text or "")]
        except (ValueError, RecursionError):
            continue
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                yield node
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)


def _meta_date(tree: etree._Element) -> str | None:
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in _META_DATES and meta.get("content"):
            return str(meta.get("content"))
    for node in json_ld_objects(tree):
        value = node.get("datePublished")
        if isinstance(value, str) and value:
            return value
    return None


def _iso(value: str, zone: ZoneInfo) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.combine(date.fromisoformat(value.strip()[:10]), time(12), tzinfo=zone)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def stated_date(tree: etree._Element, zone: ZoneInfo, text: str | None = None) -> datetime | None:
    """The date a page states: its metadata, else a "Posted:/Published: …" line of its text.

    A stated local time is read in ``zone`` (the report's); a bare day is noon there.
    ``text`` is :func:`page_text` of ``tree`` when the caller has it already.
    """
    meta = _meta_date(tree)
    if meta:
        found = _iso(meta, zone)
        if found is not None:
            return found
    if text is None:
        text = page_text(tree)
    for m in _STATED.finditer(text):
        g = m.groupdict()
        try:
            if g["y"]:
                day = date(int(g["y"]), int(g["m"]), int(g["d"]))
            elif g["y2"]:
                day = date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
            elif g["yn"]:
                day = date(int(g["yn"]), MONTHS[g["mn"].title()], int(g["dn"]))
            else:
                day = date(int(g["yw"]), MONTHS[g["mw"].title()], int(g["dw"]))
            at = time(int(g["hh"]), int(g["mi"])) if g["hh"] else time(12)
        except (ValueError, KeyError):
            continue
        return datetime.combine(day, at, tzinfo=zone)
    return None


def reconcile(entry: Entry, article: Article, now: datetime | None = None) -> Article:
    """The article with the headline and date the item is stored under.

    The feed title joins the page's candidates, and the outlet's name (feeds.yaml) joins
    the site's names. The page's stated date replaces a feed date that is missing, in
    the future, or more than a day and a half away from it.
    """
    now = now or datetime.now(UTC)
    candidates = [("feed", entry.title)] if entry.title else []
    candidates += [(o, t) for o, t in article.headlines]
    if not article.headlines and article.title:
        candidates.append(("extracted", article.title))
    title = choose_headline(candidates, [*article.site_names, entry.source]) or article.title or entry.title
    published = entry.published
    page = article.published
    if page is not None and (
        published is None
        or published > now + timedelta(days=1)
        or (article.date_stated and abs(published - page) > FEED_PAGE_TOLERANCE)
    ):
        published = page
    return article.model_copy(update={"title": title, "published": published or page})
