"""Turn fetched bytes into entries: RSS/Atom/RDF feeds and HTML listing pages. Pure.

Everything here treats its input as hostile: the DOCTYPE (and any internal entity
subset) is cut before feedparser sees the bytes, field lengths and entry counts are
capped, links are made absolute against the final URL and anything but http(s) is
dropped, and a body that is not a feed (an HTML challenge page, JSON, nothing) is an
error rather than "nothing new".
"""

from __future__ import annotations

import calendar
import codecs
import io
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from xml.sax import SAXParseException

if TYPE_CHECKING:  # imported where used: a re-run whose feeds all answer 304 parses nothing
    import feedparser
    import lxml.html

from .errors import FeedError
from .models import Entry, FeedDocument
from .text import clean_text, fold_space
from .urls import absolute_http_url, normalize_url

MAX_ENTRIES = 500
MAX_TITLE = 500
MAX_SUMMARY = 20_000

_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY[^>]*>", re.IGNORECASE | re.DOTALL)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_XML_DECL_ENCODING = re.compile(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_UTF16_32_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
_INVALID_BYTES = re.compile("[\udc80-\udcff]+")
_CP1252_HOLES = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})


def strip_doctype(body: bytes) -> bytes:
    """Remove the DOCTYPE and entity declarations so no entity can expand."""
    body = _DOCTYPE.sub(b"", body, count=1)
    return _ENTITY_DECL.sub(b"", body)


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


def _describe_problem(exc: BaseException) -> str:
    """One readable line for what feedparser found wrong (its ``bozo_exception``)."""
    import feedparser

    if isinstance(exc, SAXParseException):
        where = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
        text = f"not well-formed XML at {where}: {exc.getMessage()}"
    elif isinstance(exc, feedparser.CharacterEncodingOverride):
        text = f"wrong character encoding: {exc}"
    elif isinstance(exc, feedparser.NonXMLContentType):
        text = f"not served as XML: {exc}"
    elif isinstance(exc, feedparser.CharacterEncodingUnknown):
        text = f"unknown character encoding: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return fold_space(text)[:300]


def _legacy_bytes(match: re.Match[str]) -> str:
    raw = bytes(ord(c) - 0xDC00 for c in match.group())
    return "".join(chr(b) if b in _CP1252_HOLES else bytes([b]).decode("cp1252") for b in raw)


def _settle_utf8(body: bytes, charset: str | None) -> tuple[bytes, str | None, str | None]:
    """``(body, charset, problem)``, settling the two ways feeds lie about UTF-8.

    A feed that declares a legacy charset (BOM, then HTTP header, then XML declaration)
    but whose non-ASCII bytes are all valid UTF-8 is UTF-8: legacy text practically never
    forms valid multi-byte UTF-8 by chance (miniflux has the same rule). A feed declared
    UTF-8 whose valid UTF-8 text holds a few invalid bytes mixes encodings; those bytes
    are read as windows-1252 rather than the whole document being re-guessed. Anything
    else is left to feedparser and chardet.
    """
    if body.isascii() or body.startswith(_UTF16_32_BOMS):
        return body, charset, None
    m = _XML_DECL_ENCODING.match(body.removeprefix(codecs.BOM_UTF8))
    declared = ("utf-8" if body.startswith(codecs.BOM_UTF8) else None) or charset
    declared = (declared or (m.group(1).decode("ascii") if m else "")).lower()
    if not declared or "16" in declared or "32" in declared:
        return body, charset, None
    text = body.decode("utf-8", errors="surrogateescape")
    invalid = sum(1 for c in text if "\udc80" <= c <= "\udcff")
    is_utf8 = declared.replace("_", "-") in ("utf-8", "utf8")
    if not invalid and not is_utf8:
        return body, "utf-8", f"declared {declared}, but the bytes are UTF-8; read as UTF-8"
    if invalid and is_utf8 and sum(1 for c in text if c > "\x7f") - invalid >= invalid:
        fixed = _INVALID_BYTES.sub(_legacy_bytes, text).encode("utf-8")
        return fixed, "utf-8", f"{invalid} bytes are not UTF-8; read as windows-1252"
    return body, charset, None


def _title(holder: feedparser.FeedParserDict, declared: bool) -> str:
    """A feed's or entry's title as text: entities decoded once, only real elements stripped.

    The XML parser has already decoded ``&lt;b&gt;`` to the characters ``<b>``; in an
    RSS or RDF title, which has no type, those characters are text, and reading them
    as HTML would decode them a second time and drop them as tags (feedparser labels
    such a title ``text/html`` only because it *looks* like markup). Markup counts when
    it is declared (Atom ``type="html"``) or when the title holds real child elements
    (``application/xhtml+xml``: Atom ``type="xhtml"``, or elements written straight into
    an RSS title).
    """
    kind = (holder.get("title_detail") or {}).get("type")
    markup = kind == "application/xhtml+xml" or (declared and kind == "text/html")
    return clean_text(holder.get("title", ""), MAX_TITLE, html=markup)


def _normalise_entry(raw: feedparser.FeedParserDict, source: str, final_url: str, declared: bool) -> Entry:
    link = absolute_http_url(raw.get("link"), final_url)
    if link is None:
        for alt in raw.get("links", []):
            link = absolute_http_url(alt.get("href"), final_url)
            if link:
                break
    summary, summary_type = raw.get("summary") or "", (raw.get("summary_detail") or {}).get("type")
    if not summary and raw.get("content"):
        summary, summary_type = raw["content"][0].get("value", ""), raw["content"][0].get("type")
    return Entry(
        source=source,
        url=link or "",
        title=_title(raw, declared),
        # A description is HTML by convention (escaped or not) unless declared plain text.
        summary=clean_text(summary, MAX_SUMMARY, html=summary_type in (*_HTML_TYPES, None)),
        published=_entry_date(raw),
        guid=(raw.get("id") or None),
    )


def parse_feed_document(
    body: bytes,
    *,
    source: str,
    final_url: str,
    content_type: str = "",
    charset: str | None = None,
) -> FeedDocument:
    """The whole feed: title, every entry in order, and its problems.

    :class:`FeedError` when the body is not a feed at all (empty, HTML, JSON, or no RSS,
    Atom or RDF root element). A feed that parsed only leniently is returned with its
    ``problems`` listed, so the caller decides whether that is worth a warning.
    """
    problem = _looks_like_non_feed(body, content_type)
    if problem:
        raise FeedError(f"{source}: {problem}")
    if body[:1].isspace() and body.lstrip().startswith(b"<?xml"):
        body = body.lstrip()  # a blank line before the declaration makes the strict parser give up
    body, charset, encoding_problem = _settle_utf8(body, charset)
    # No Content-Type is read as application/xml (RFC 3023: BOM, XML declaration, else
    # UTF-8) rather than left for feedparser to flag every such feed as "no Content-type".
    media_type = content_type or "application/xml"
    headers = {
        "content-location": final_url,
        "content-type": media_type + (f"; charset={charset}" if charset else ""),
    }
    # feedparser's sanitiser would re-serialise every field it guesses to be HTML (``&``
    # becomes ``&amp;``, text that looks like a tag is parsed as one); clean_text turns
    # HTML into text itself, so fields arrive here exactly as the XML decoded them.
    import feedparser  # 50 ms with chardet: paid only when a feed body is there to parse

    parsed = feedparser.parse(
        io.BytesIO(strip_doctype(body)),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problems = [encoding_problem] if encoding_problem else []
    if parsed.get("bozo") and parsed.get("bozo_exception") is not None:
        problems.append(_describe_problem(parsed.bozo_exception))
    if not parsed.entries and not parsed.get("version"):
        cause = problems[0] if problems else "no RSS, Atom or RDF root element"
        raise FeedError(f"{source}: not a feed ({cause})")
    declared = str(parsed.get("version", "")).startswith("atom")  # only Atom declares a title's type
    return FeedDocument(
        title=_title(parsed.feed, declared),
        link=absolute_http_url(parsed.feed.get("link"), final_url),
        entries=[_normalise_entry(raw, source, final_url, declared) for raw in parsed.entries[:MAX_ENTRIES]],
        problems=problems,
    )


def usable_entries(doc: FeedDocument, source: str) -> tuple[list[Entry], int]:
    """The entries the collector can use (an http(s) link, once per URL) and how many were not.

    :class:`FeedError` when there are none, so an empty feed is never "nothing new".
    """
    if not doc.entries:
        detail = f" ({'; '.join(doc.problems)})" if doc.problems else ""
        raise FeedError(f"{source}: the feed has no entries{detail}")
    entries: list[Entry] = []
    seen: set[str] = set()
    for entry in doc.entries:
        if not entry.url:
            continue
        key = normalize_url(entry.url)
        if key in seen:
            continue
        seen.add(key)
        entries.append(entry)
    if not entries:
        raise FeedError(f"{source}: no entry has a usable http(s) link")
    unlinked = sum(1 for e in doc.entries if not e.url)
    return entries, unlinked


def parse_feed(
    body: bytes,
    *,
    source: str,
    final_url: str,
    content_type: str = "",
    charset: str | None = None,
) -> list[Entry]:
    """The entries the collector can use: those with an http(s) link, once per URL."""
    doc = parse_feed_document(
        body, source=source, final_url=final_url, content_type=content_type, charset=charset
    )
    return usable_entries(doc, source)[0]


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
    import lxml.html

    if not body.strip():
        raise FeedError(f"{source}: empty listing page")
    try:
        doc = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError) as exc:
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
