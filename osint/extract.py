"""Article page -> :class:`Article` with trafilatura. A pure function of the HTML.

The headline and date are weighed from several signals of the page (``pagemeta``);
:func:`reconcile` then weighs them against the feed entry's own.

Fetching lives elsewhere so extraction can run in a worker process with a time limit
(a hostile page must not hang the run) and be evaluated offline on stored pages.
"""

from __future__ import annotations

import copy
import functools
import logging
import unicodedata
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from trafilatura.settings import Document, Extractor

from .errors import ExtractError
from .models import Article, Entry
from .pagemeta import choose_headline, json_ld_objects, page_candidates, page_text, stated_date
from .text import clean_text
from .urls import absolute_http_url

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 200
MAX_HTML_BYTES = 4 * 1024 * 1024
MAX_TEXT_CHARS = 60_000


def _day(value: str | None, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        d = date.fromisoformat(value[:10])
    except ValueError:
        return None
    # A page date has day precision only; noon in the report's zone keeps it on that day.
    return datetime.combine(d, time(12), tzinfo=zone)


def _drop_title_line(text: str, title: str) -> str:
    lines = text.split("\n")
    if lines and title and lines[0].strip().lower() == title.strip().lower():
        lines = lines[1:]
    return "\n".join(line for line in lines if line.strip())


def json_ld_article_body(html: bytes) -> str:
    """The longest schema.org ``articleBody`` in the page's JSON-LD, as plain text.

    Paywalled and script-rendered news pages often ship the whole article there while
    the visible HTML holds a teaser or a photo caption.
    """
    import lxml.html  # the collector's main process imports this module but never parses here

    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return ""
    best = ""
    for node in json_ld_objects(tree):
        body = node.get("articleBody")
        if isinstance(body, str) and len(body) > len(best):
            best = body
    lines = (clean_text(line, MAX_TEXT_CHARS, html=True) for line in best.splitlines())
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))


@functools.cache
def _options() -> Extractor:
    """trafilatura's settings for every page, built once per process.

    The same as ``bare_extraction(include_comments=False, include_tables=True)`` builds
    on each call (reading its configuration costs about a millisecond a page);
    trafilatura's own command line shares one the same way. Metadata is read apart, by
    :func:`_metadata`.
    """
    from trafilatura.settings import Extractor

    return Extractor(output_format="python", comments=False, tables=True, with_metadata=False)


def _metadata(tree: HtmlElement, options: Extractor) -> Document:
    """trafilatura's ``extract_metadata`` for the fields an article keeps, step for step.

    Three of its steps are left out: categories, tags and the licence (an article keeps
    none of them), and the search of the page's text for an author when its metadata
    names none: about 3.5 ms of the 11 ms of CPU a page took, for a field no report,
    page or email shows. An author the page's metadata or JSON-LD states is kept.
    ``tests/test_extract.py`` holds the kept fields to trafilatura's own.
    """
    from courlan import extract_domain
    from htmldate import find_date
    from trafilatura.metadata import (
        META_URL,
        examine_meta,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
    )

    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as exc:  # noqa: BLE001  (trafilatura guards its JSON-LD reader so too)
        log.warning("error in JSON metadata extraction: %s", exc)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, options.url)
    if metadata.url:
        metadata.hostname = extract_domain(metadata.url, fast=True)
    date_params = {**options.date_params, "url": metadata.url}
    metadata.date = find_date(tree, **date_params)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        found = META_URL.match(metadata.url)
        if found:
            metadata.sitename = found[1]
    metadata.filedate = date_params.get("max_date")
    metadata.clean_and_trim()
    return metadata


def extract_article(html: bytes, url: str, zone: ZoneInfo) -> Article:
    """Main text and metadata of an article page; :class:`ExtractError` when there is none."""
    if len(html) > MAX_HTML_BYTES:
        raise ExtractError(f"page is larger than {MAX_HTML_BYTES} bytes")
    try:
        import trafilatura  # here, not at the top: only extraction workers need it (0.15 s)
        from trafilatura.utils import load_html

        options = copy.copy(_options())
        options.url = options.source = url
        # Parsed once, as trafilatura parses; the metadata is read from this tree and
        # the extraction works on a copy (trafilatura copies a tree it is given).
        page = load_html(html, options.max_file_size)
        if page is None:
            raise ExtractError("no main text found")
        meta = _metadata(page, options)
        doc = trafilatura.bare_extraction(page, url=url, options=options)
    except ExtractError:
        raise
    except Exception as exc:
        raise ExtractError(f"extraction failed: {type(exc).__name__}: {exc}") from exc
    if doc is None or isinstance(doc, dict):
        raise ExtractError("no main text found")
    doc.title, doc.author, doc.url, doc.sitename, doc.date = (
        meta.title,
        meta.author,
        meta.url,
        meta.sitename,
        meta.date,
    )
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        tree = None
    extracted = clean_text(unicodedata.normalize("NFC", doc.title or ""), 500)
    headlines: list[tuple[str, str]] = []
    sites = [clean_text(doc.sitename, 200)] if doc.sitename else []
    stated = None
    if tree is not None:
        whole = page_text(tree)  # read twice below: joined once
        found, named = page_candidates(tree, extracted, whole)
        headlines = [(o, clean_text(unicodedata.normalize("NFC", t), 500)) for o, t in found]
        sites += [clean_text(n, 200) for n in named]
        stated = stated_date(tree, zone, whole)
    title = choose_headline(headlines, sites) if headlines else extracted
    # NFC as trafilatura's own extract() returns it: decomposed accents or Bengali vowel
    # signs would otherwise fail to match the same words typed elsewhere.
    text = _drop_title_line(unicodedata.normalize("NFC", doc.text or ""), title)[:MAX_TEXT_CHARS]
    note = None
    if len(text) < MIN_TEXT_CHARS:
        structured = json_ld_article_body(html)
        if len(structured) < MIN_TEXT_CHARS:
            raise ExtractError(f"main text too short ({len(text)} characters)")
        note = f"main text from the page's JSON-LD articleBody (the HTML gave {len(text)} characters)"
        text = structured[:MAX_TEXT_CHARS]
    canonical = absolute_http_url(doc.url, url) if doc.url and doc.url != url else None
    return Article(
        url=url,
        title=title,
        text=text,
        canonical_url=canonical,
        author=clean_text(doc.author, 200) if doc.author else None,
        site=clean_text(doc.sitename, 200) if doc.sitename else None,
        language=doc.language,
        published=stated or _day(doc.date, zone),
        date_stated=stated is not None,
        headlines=headlines[:20],
        site_names=sorted(set(sites))[:10],
        note=note,
    )


def article_from_entry(entry: Entry, reason: str) -> Article:
    """The fallback when a page cannot be used: the feed's own title and summary."""
    text = entry.summary.strip()
    if not text:
        raise ExtractError(f"{reason}; the feed entry has no summary either")
    return Article(
        url=entry.url,
        title=entry.title or text[:120],
        text=text,
        published=entry.published,
        extraction="summary",
        note=reason,
    )


def extract_in_worker(html: bytes, url: str, zone_key: str) -> Article:
    """:func:`extract_article` as a worker process runs it (module level, so it pickles)."""
    return extract_article(html, url, ZoneInfo(zone_key))


def warm_up() -> None:
    """A worker's start-up: import trafilatura (0.2 s or more) before the first page's clock starts."""
    import trafilatura  # noqa: F401
