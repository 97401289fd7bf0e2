"""Turn fetched bytes into entries: RSS/Atom/RDF feeds and HTML listing pages. Pure.

Everything here treats its input as hostile: the DOCTYPE (and any internal entity
subset) is cut before feedparser sees the bytes, field lengths and entry counts are
capped, links are made absolute against the final URL and anything but http(s) is
dropped, and a body that is not a feed (an HTML challenge page, JSON, nothing) is an
error rather than "nothing new".
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import lxml.html
from lxml import etree

from .errors import FeedError
from .models import Entry

MAX_ENTRIES = 500
MAX_TITLE = 500
MAX_SUMMARY = 20_000

_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY[^>]*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$)", re.IGNORECASE)


def strip_doctype(body: bytes) -> bytes:
    """Remove the DOCTYPE and entity declarations so no entity can expand."""
    body = _DOCTYPE.sub(b"", body, count=1)
    return _ENTITY_DECL.sub(b"", body)


def clean_text(value: str, limit: int) -> str:
    """Markup-free, whitespace-folded text, at most ``limit`` characters."""
    if "<" in value:
        try:
            value = lxml.html.fromstring(value).text_content()
        except (etree.ParserError, ValueError):
            value = _TAGS.sub(" ", value)
    value = _SPACE.sub(" ", value).strip()
    return value[:limit]


def normalize_url(url: str) -> str:
    """The key an article is stored under: lower-case host, no fragment or tracking query."""
    parts = urlsplit(url.strip())
    query = "&".join(p for p in parts.query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0]))
    netloc = parts.netloc.lower()
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def absolute_http_url(link: str | None, base: str) -> str | None:
    """``link`` made absolute against ``base``; None unless it is http(s)."""
    if not link:
        return None
    link = link.strip()
    if not link or len(link) > 2000:
        return None
    url = urljoin(base, link)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _looks_like_non_feed(body: bytes, content_type: str) -> str | None:
    head = body[:2048].lstrip().lower()
    if not head.strip():
        return "empty body"
    if content_type in ("application/json",) or head[:1] in (b"{", b"["):
        return "JSON, not a feed"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]:
        return "an HTML page, not a feed (a challenge or error page?)"
    return None


def parse_feed(
    body: bytes,
    *,
    source: str,
    final_url: str,
    content_type: str = "",
    charset: str | None = None,
) -> list[Entry]:
    """Entries of an RSS/Atom/RDF feed; :class:`FeedError` when the body is not a feed."""
    problem = _looks_like_non_feed(body, content_type)
    if problem:
        raise FeedError(f"{source}: {problem}")
    headers = {"content-location": final_url}
    if content_type:
        headers["content-type"] = content_type + (f"; charset={charset}" if charset else "")
    parsed = feedparser.parse(io.BytesIO(strip_doctype(body)), response_headers=headers)
    if not parsed.entries:
        if parsed.get("bozo") and parsed.get("bozo_exception") is not None:
            raise FeedError(f"{source}: not a usable feed ({parsed.bozo_exception})")
        raise FeedError(f"{source}: the feed has no entries")
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in parsed.entries[:MAX_ENTRIES]:
        link = absolute_http_url(raw.get("link"), final_url)
        if link is None:
            for alt in raw.get("links", []):
                link = absolute_http_url(alt.get("href"), final_url)
                if link:
                    break
        if link is None:
            continue
        key = normalize_url(link)
        if key in seen:
            continue
        seen.add(key)
        summary = raw.get("summary") or ""
        if not summary and raw.get("content"):
            summary = raw["content"][0].get("value", "")
        entries.append(
            Entry(
                source=source,
                url=link,
                title=clean_text(raw.get("title", ""), MAX_TITLE),
                summary=clean_text(summary, MAX_SUMMARY),
                published=_entry_date(raw),
                guid=(raw.get("id") or None),
            )
        )
    if not entries:
        raise FeedError(f"{source}: no entry has a usable http(s) link")
    return entries


_DATE_IN_TEXT = re.compile(r"(20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})")


def _listing_date(anchor: lxml.html.HtmlElement) -> datetime | None:
    """A date printed next to a link on a listing page: a <time> in the same block."""
    node: lxml.html.HtmlElement | None = anchor
    for _ in range(3):
        if node is None:
            break
        for t in node.iter("time"):
            value = t.get("datetime") or t.text_content()
            m = _DATE_IN_TEXT.search(value or "")
            if m:
                try:
                    y, mo, d = (int(g) for g in m.groups())
                    return datetime(y, mo, d, 12, tzinfo=UTC)
                except ValueError:
                    return None
        node = node.getparent()
    return None


def parse_listing(
    body: bytes, *, source: str, final_url: str, link_pattern: str | None = None
) -> list[Entry]:
    """Article links on an HTML listing page (a source with no feed).

    With ``link_pattern`` a link must match it. Without one, a heuristic keeps links on
    the same site whose path looks like an article (deep, with a slug or a number) and
    whose anchor text reads like a headline, and drops navigation.
    """
    if not body.strip():
        raise FeedError(f"{source}: empty listing page")
    try:
        doc = lxml.html.fromstring(body)
    except (etree.ParserError, ValueError) as exc:
        raise FeedError(f"{source}: listing page is not HTML ({exc})") from exc
    pattern = re.compile(link_pattern) if link_pattern else None
    host = urlsplit(final_url).netloc.lower()
    entries: list[Entry] = []
    seen: set[str] = {normalize_url(final_url)}
    for a in doc.iter("a"):
        url = absolute_http_url(a.get("href"), final_url)
        if url is None:
            continue
        text = clean_text(a.text_content(), MAX_TITLE)
        if pattern is not None:
            if not pattern.search(url):
                continue
        else:
            parts = urlsplit(url)
            segments = [s for s in parts.path.split("/") if s]
            slugish = any("-" in s or any(c.isdigit() for c in s) for s in segments[1:])
            if (
                parts.netloc.lower() != host
                or len(segments) < 2
                or not slugish
                or len(text.split()) < 4
                or a.xpath("ancestor::nav or ancestor::footer or ancestor::header")
            ):
                continue
        key = normalize_url(url)
        if key in seen:
            continue
        seen.add(key)
        entries.append(Entry(source=source, url=url, title=text, published=_listing_date(a)))
        if len(entries) >= MAX_ENTRIES:
            break
    if not entries:
        raise FeedError(f"{source}: no article links found on the listing page")
    return entries


def resolve_date(
    published: datetime | None, first_seen: datetime, now: datetime | None = None
) -> tuple[datetime, bool]:
    """The date an item is filed under, and whether it was estimated (missing or future)."""
    now = now or datetime.now(UTC)
    if published is None:
        return first_seen, True
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published > now + timedelta(days=1):
        return first_seen, True
    return published.astimezone(UTC), False


def content_hash(text: str) -> str:
    return hashlib.sha256(_SPACE.sub(" ", text).strip().lower().encode()).hexdigest()[:32]
