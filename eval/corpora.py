"""``make eval-corpora``: the collector's feed normaliser and article extractor run over
third-party test corpora, scored against the pass criteria of the corpora README and
against the figures pinned in ``eval/corpora_baseline.json``.

The corpora (``../shared/corpora``: feedparser's, gofeed's, feed-rs's, rss-parser's,
miniflux's and newsboat's test feeds, trafilatura's news evaluation pages and the
Scrapinghub article-extraction benchmark) are other projects' regression suites. Running
our own code over them finds what synthetic fixtures do not: legacy encodings, lenient
parsing, markup in titles, pages trafilatura gets wrong. The command never stops at the
first problem: every file is tried, every failure is listed by file, and the exit code
says at the end whether a criterion failed or a figure fell below its pinned baseline
(the quality gate, as in trafilatura's ``eval_gate``).

Run ``.venv/bin/python -m eval.corpora --help``. The scoring methods are reimplemented
here from the descriptions in each corpus's ``SOURCE.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import statistics
import sys
import textwrap
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

from osint.errors import ExtractError, FeedError
from osint.extract import extract_article
from osint.models import Entry, FeedDocument
from osint.parse import parse_feed, parse_feed_document
from osint.urls import normalize_url

HERE = Path(__file__).resolve().parent
DEFAULT_CORPORA = HERE.parent.parent / "shared" / "corpora"
BASELINE_FILE = HERE / "corpora_baseline.json"
RESULTS_FILE = HERE / "corpora_results.md"

FEED_FOLDERS = (
    "feedparser-tests",
    "gofeed-testdata",
    "feed-rs-fixtures",
    "rss-parser-fixtures",
    "miniflux-feeds",
    "newsboat-feeds",
)
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf"})
# Every corpus file is "served" from here, so relative links resolve to something
# recognisable and never to a real host.
BASE_URL = "https://corpus.invalid/"
ZONE = ZoneInfo("UTC")

_SPACE = re.compile(r"\s+")
_HEADER = re.compile(r"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_EXPECT = re.compile(r"^\s*Expect:\s*(.*?)\s*$", re.MULTILINE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^;\"'\s]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._:-]+)[\"']")


def fold(text: str) -> str:
    """Whitespace-folded text: how every comparison here treats text."""
    return _SPACE.sub(" ", text).strip()


# --------------------------------------------------------------------------- results


@dataclass
class Check:
    """One pass criterion of the corpora README, as measured."""

    criterion: str
    measured: str
    target: str
    passed: bool
    details: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``4 field fidelity`` -> ``field_fidelity``: the prefix of its pinned figures."""
        return self.criterion.split(maxsplit=1)[-1].replace(" ", "_")


@dataclass
class Report:
    """Everything one run measured: the criteria and the figures the baseline pins."""

    checks: list[Check] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # printed only: they vary from run to run

    def add(self, check: Check, metrics: dict[str, float]) -> None:
        self.checks.append(check)
        self.metrics.update({f"{check.key}.{name}": value for name, value in metrics.items()})


# --------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class FeedFile:
    """One corpus feed with the HTTP Content-Type it is served with (if its test says so)."""

    name: str
    body: bytes
    content_type: str = ""
    charset: str | None = None

    @property
    def final_url(self) -> str:
        return BASE_URL + self.name

    @property
    def expect(self) -> str:
        """feedparser-tests' ``Expect:`` line (empty for other corpora)."""
        m = _EXPECT.search(self.body[:4096].decode("utf-8", "replace"))
        return m.group(1) if m else ""


def served_as(body: bytes) -> tuple[str, str | None]:
    """The Content-Type a feedparser test is served with: its ``Header:`` comment."""
    m = _HEADER.search(body[:4096].decode("latin-1"))
    if not m:
        return "", None
    media_type, _, params = m.group(1).partition(";")
    charset = _CHARSET.search(params)
    return media_type.strip().lower(), (charset.group(1) if charset else None)


def feed_file(corpora: Path, name: str) -> FeedFile:
    """One corpus file by its path under ``corpora``; feedparser's tests get their headers."""
    body = (corpora / name).read_bytes()
    content_type, charset = served_as(body) if name.startswith("feedparser-tests/") else ("", None)
    return FeedFile(name, body, content_type, charset)


def feed_files(corpora: Path, folders: Iterable[str] = FEED_FOLDERS) -> list[FeedFile]:
    """Every feed file under ``folders`` (paths under ``corpora``), in a stable order."""
    return [
        feed_file(corpora, path.relative_to(corpora).as_posix())
        for folder in folders
        for path in sorted((corpora / folder).rglob("*"))
        if path.suffix in FEED_SUFFIXES and path.is_file()
    ]


@dataclass
class Outcome:
    """What the normaliser made of one file: the document view and the collector's view."""

    file: FeedFile
    doc: FeedDocument | None = None
    doc_error: str | None = None
    entries: list[Entry] | None = None
    error: str | None = None
    crash: str | None = None


def normalise(feed: FeedFile) -> Outcome:
    """Run ``parse_feed_document`` and ``parse_feed`` on one file; never raises."""
    out = Outcome(feed)
    kwargs: dict[str, Any] = {
        "source": feed.name,
        "final_url": feed.final_url,
        "content_type": feed.content_type,
        "charset": feed.charset,
    }
    try:
        try:
            out.doc = parse_feed_document(feed.body, **kwargs)
        except FeedError as exc:
            out.doc_error = str(exc)
        try:
            out.entries = parse_feed(feed.body, **kwargs)
        except FeedError as exc:
            out.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - an uncaught exception is exactly what is counted
        out.crash = f"{type(exc).__name__}: {exc}"
    return out


def unreadable(message: str, name: str) -> str | None:
    """Why an error message is not "one readable line naming the file and the cause"."""
    if not message.startswith(f"{name}: ") or len(message) <= len(name) + 3:
        return "does not start with the file name and a cause"
    if "\n" in message or len(message) > 400:
        return "not one short line"
    if re.search(r"<unknown>:\d|Traceback|object at 0x", message):
        return "reads like a raw exception"
    return None


def check_robustness(outcomes: Sequence[Outcome]) -> tuple[Check, dict[str, float]]:
    crashes = [f"{o.file.name}: uncaught {o.crash}" for o in outcomes if o.crash]
    bad = [
        f"{o.file.name}: unreadable error ({why}): {o.error!r}"
        for o in outcomes
        if o.error and (why := unreadable(o.error, o.file.name))
    ]
    results = sum(1 for o in outcomes if o.entries)
    errors = sum(1 for o in outcomes if o.error)
    per_folder: dict[str, Counter[str]] = {}
    for o in outcomes:
        c = per_folder.setdefault(o.file.name.split("/")[0], Counter())
        c["files"] += 1
        c["entries"] += bool(o.entries)
        c["error"] += bool(o.error)
        c["malformed"] += bool(o.doc_error or (o.doc and o.doc.problems))
    causes = Counter(_cause(o.error) for o in outcomes if o.error)
    details = [
        f"{folder}: {c['files']} files, {c['entries']} with entries, {c['error']} typed errors, "
        f"{c['malformed']} flagged malformed"
        for folder, c in per_folder.items()
    ]
    details += [f"error cause x{n}: {cause}" for cause, n in causes.most_common()]
    details += crashes + bad
    passed = not crashes and not bad and results + errors == len(outcomes)
    check = Check(
        "1 feed robustness",
        f"{len(outcomes)} files: {results} results, {errors} typed errors, {len(crashes)} uncaught, "
        f"{len(bad)} unreadable messages",
        "0 uncaught; every file a result or one readable typed error naming it",
        passed,
        details,
    )
    metrics = {
        "files": float(len(outcomes)),
        "with_entries": float(results),
        "uncaught": float(len(crashes)),
        "unreadable_errors": float(len(bad)),
    }
    return check, metrics


def _cause(message: str) -> str:
    """An error message without its file name, numbers folded: for counting causes."""
    cause = message.split(": ", 1)[-1]
    return re.sub(r"\d+", "N", cause)[:110]


EMPTY_DOCUMENTS = (
    "feedparser-tests/illformed/rss_empty_document.xml",
    "newsboat-feeds/empty.xml",
    "rss-parser-fixtures/input/unrecognized.rss",
)


def check_bozo(outcomes: Sequence[Outcome]) -> tuple[Check, dict[str, float]]:
    """The 20 feedparser ``Expect: bozo`` files flagged; the empty documents are errors."""
    bozo = [o for o in outcomes if o.file.expect.startswith("bozo")]
    flagged: list[Outcome] = []
    details: list[str] = []
    for o in bozo:
        why = o.doc_error or (o.doc.problems[0] if o.doc and o.doc.problems else None)
        if why:
            flagged.append(o)
            details.append(f"flagged {o.file.name}: {why}")
        else:
            details.append(f"NOT flagged {o.file.name} (Expect: {o.file.expect})")
    by_name = {o.file.name: o for o in outcomes}
    empty_ok = 0
    for name in EMPTY_DOCUMENTS:
        empty = by_name.get(name)
        if empty is not None and empty.error and not empty.entries:
            empty_ok += 1
            details.append(f"error as expected: {empty.error}")
        else:
            details.append(f"NO error for {name}: {empty.entries if empty else 'file missing'}")
    check = Check(
        "2 bozo reporting",
        f"{len(flagged)}/{len(bozo)} bozo files flagged; {empty_ok}/{len(EMPTY_DOCUMENTS)} empty "
        "documents give an error",
        "20/20 flagged; 3/3 empty documents are errors",
        len(bozo) == 20 and len(flagged) == len(bozo) and empty_ok == len(EMPTY_DOCUMENTS),
        details,
    )
    return check, {"flagged": float(len(flagged)), "empty_errors": float(empty_ok)}


# --------------------------------------------------------------------------- sanitising

ACTIVE_ELEMENTS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "meta", "link", "base"}
)
_SCHEME_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def _dangerous_url(value: str) -> bool:
    squeezed = _SCHEME_NOISE.sub("", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:", "data:text/html"))


def active_content(text: str) -> list[str]:
    """What would become active if ``text`` were ever read as HTML: elements, handlers, URLs.

    The normaliser's fields are plain text; this parses them as HTML anyway, the way a
    careless renderer would, and lists anything that could run.
    """
    if "<" not in text:
        return ["javascript: URL"] if _dangerous_url(text) else []
    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    found: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.lower() in ACTIVE_ELEMENTS:
            found.append(f"<{el.tag}> element")
        for attr, value in el.attrib.items():
            if attr.lower().startswith("on"):
                found.append(f"{attr} attribute on <{el.tag}>")
            elif _dangerous_url(value):
                found.append(f"javascript: URL in {attr} of <{el.tag}>")
    return found


def url_problem(url: str | None) -> str | None:
    """A URL field must be empty or http(s)."""
    if not url:
        return None
    if urlsplit(url).scheme not in ("http", "https") or _dangerous_url(url):
        return f"non-http(s) URL {url[:80]!r}"
    return None


def sanitise_failures(doc: FeedDocument) -> list[str]:
    """Every field of a normalised feed that carries active content."""
    found: list[str] = []
    fields: list[tuple[str, str]] = [("feed title", doc.title)]
    for i, e in enumerate(doc.entries):
        fields += [(f"entry {i} title", e.title), (f"entry {i} summary", e.summary)]
        fields.append((f"entry {i} guid", e.guid or ""))
        fields.append((f"entry {i} url", e.url))
    for label, value in fields:
        found += [f"{label}: {what}" for what in active_content(value)]
    for label, url in [("feed link", doc.link)] + [
        (f"entry {i} url", e.url) for i, e in enumerate(doc.entries)
    ]:
        if problem := url_problem(url):
            found.append(f"{label}: {problem}")
    return found


def check_sanitising(outcomes: Sequence[Outcome]) -> tuple[Check, dict[str, float]]:
    """README scope: feedparser's ``wellformed/sanitize``. Every other feed is scanned too;
    there a hit is usually a code sample the source escaped as text (a blog post quoting
    ``<iframe ...>``), which is plain text in our fields and escaped by every renderer, so
    those are listed and pinned (may not grow) rather than failed."""
    details: list[str] = []
    failures = {"sanitize": 0, "other": 0}
    checked = {"sanitize": 0, "other": 0}
    in_scope = 0
    for o in outcomes:
        scope = "sanitize" if o.file.name.startswith("feedparser-tests/wellformed/sanitize/") else "other"
        in_scope += scope == "sanitize"
        if o.doc is None:
            continue
        found = sanitise_failures(o.doc)
        checked[scope] += 1
        failures[scope] += bool(found)
        note = "" if scope == "sanitize" else " (literal text in a plain-text field; review)"
        details += [f"{o.file.name}: {what}{note}" for what in found]
    check = Check(
        "3 sanitising",
        f"{failures['sanitize']} files with active content of {checked['sanitize']} sanitize files "
        f"({in_scope - checked['sanitize']} not feeds); other feeds: {failures['other']} of "
        f"{checked['other']} carry markup-like literal text",
        "745 files: no script, iframe, object, embed, applet, style, meta, link, base element; "
        "no on*; no javascript:",
        failures["sanitize"] == 0 and in_scope == 745,
        details,
    )
    metrics = {"failures_sanitize": float(failures["sanitize"]), "failures_other": float(failures["other"])}
    return check, metrics


# --------------------------------------------------------------------------- fidelity


def plain(value: object, markup: bool = True) -> str:
    """Another parser's expected title as the text ours should be, folded.

    The other parsers keep a title's markup and entities (gofeed gives ``<p>Title</p>``
    for real elements and for ``&lt;p&gt;``). Ours strips only markup the feed itself
    declares (see :func:`title_markup`), so with ``markup`` the expected value is read
    as HTML, and without it the expected value is the text as it is.
    """
    if not isinstance(value, str):
        return ""
    text: str = value
    if markup and ("<" in text or "&" in text):
        with contextlib.suppress(etree.ParserError, ValueError):
            text = lxml.html.fragment_fromstring(text, create_parent="div").text_content()
    return fold(text)


_MARKUP_TYPES = ("html", "xhtml", "text/html", "application/xhtml+xml")


def title_markup(path: Path) -> list[bool]:
    """Whether the feed's title, then each entry's, is markup by the feed's own word.

    Read with lxml, apart from the parser under test: a title is markup when it holds
    child elements, or when it is Atom's and its ``type`` says HTML or XHTML. An RSS or
    RDF title of text only (``&lt;b&gt;`` included, escaped or in CDATA) is text.
    """
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(path.read_bytes(), parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []

    def local(el: Any) -> str:
        return etree.QName(el).localname if isinstance(el.tag, str) else ""

    def is_markup(holder: Any) -> bool:
        title = next((c for c in holder if local(c) == "title"), None)
        if title is None:
            return False
        atom = "Atom" in (etree.QName(title).namespace or "") or "purl.org/atom" in (
            etree.QName(title).namespace or ""
        )
        return len(title) > 0 or (atom and (title.get("type") or "").lower() in _MARKUP_TYPES)

    channel = next((el for el in root.iter() if local(el) == "channel"), None)
    feed = channel if channel is not None and local(root) != "feed" else root
    entries = [el for el in root.iter() if local(el) in ("item", "entry")]
    return [is_markup(feed)] + [is_markup(e) for e in entries]


def _load_json(path: Path) -> Any:
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:  # rss-parser's output/encoding.json is ISO-8859-1 upstream
        return json.loads(raw.decode("latin-1"))


def _same_url(url: str) -> str:
    """Scheme and host are case-insensitive; nothing else is."""
    parts = urlsplit(url)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def _links_agree(ours: str, expected: Sequence[str], base: str) -> bool:
    wanted = [_same_url(urljoin(base, h.strip())) for h in expected if h and h.strip()]
    wanted = [u for u in wanted if urlsplit(u).scheme in ("http", "https")]
    if not wanted:
        return ours == ""
    return _same_url(ours) in wanted


@dataclass
class Tally:
    """Files agreeing on one field, with every disagreement listed."""

    label: str
    agree: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def record(self, name: str, ok: bool, why: str = "") -> None:
        self.total += 1
        self.agree += ok
        if not ok:
            self.misses.append(f"{self.label} mismatch {name}: {why}")

    def __str__(self) -> str:
        return f"{self.label} {self.agree}/{self.total}"


def _first_diff(ours: Sequence[str], expected: Sequence[str]) -> str:
    if len(ours) != len(expected):
        return f"{len(ours)} entries, expected {len(expected)}"
    for i, (a, b) in enumerate(zip(ours, expected, strict=True)):
        if a != b:
            note = (
                " (the expected output is itself mis-decoded)" if "\ufffd" in b and "\ufffd" not in a else ""
            )
            return f"entry {i}: {a[:70]!r} != expected {b[:70]!r}{note}"
    return ""


def fidelity_feed_rs(corpora: Path, docs: dict[str, Outcome]) -> list[Tally]:
    title, count, links = Tally("feed-rs title"), Tally("feed-rs entry count"), Tally("feed-rs links")
    for expected_path in sorted((corpora / "feed-rs-fixtures").rglob("*.serde.json")):
        xml = expected_path.with_name(expected_path.name.replace(".serde.json", ".xml"))
        name = xml.relative_to(corpora).as_posix()
        if name not in docs:
            continue  # JSON Feed inputs: not a format the collector reads
        expected = _load_json(expected_path)
        doc = docs[name].doc
        if doc is None:
            for t in (title, count, links):
                t.record(name, False, f"no document: {docs[name].doc_error}")
            continue
        want_title = plain((expected.get("title") or {}).get("content"))
        title.record(name, doc.title == want_title, f"{doc.title[:70]!r} != expected {want_title[:70]!r}")
        want = expected.get("entries") or []
        count.record(name, len(doc.entries) == len(want), f"{len(doc.entries)} != expected {len(want)}")
        bad = [
            f"entry {i}: {e.url!r} not in {[lk.get('href') for lk in w.get('links') or []]}"
            for i, (e, w) in enumerate(zip(doc.entries, want, strict=False))
            if not _links_agree(e.url, [lk.get("href", "") for lk in w.get("links") or []], BASE_URL + name)
        ]
        links.record(name, not bad and len(doc.entries) == len(want), "; ".join(bad[:2]) or "count")
    return [title, count, links]


def fidelity_rss_parser(corpora: Path, docs: dict[str, Outcome]) -> list[Tally]:
    title, titles, links = (
        Tally("rss-parser title"),
        Tally("rss-parser item titles"),
        Tally("rss-parser links"),
    )
    root = corpora / "rss-parser-fixtures"
    for expected_path in sorted((root / "output").glob("*.json")):
        inputs = [p for p in (root / "input").glob(expected_path.stem + ".*")]
        if not inputs:
            continue
        name = inputs[0].relative_to(corpora).as_posix()
        if name not in docs:
            continue
        feed = _load_json(expected_path)["feed"]
        doc = docs[name].doc
        if doc is None:
            for t in (title, titles, links):
                t.record(name, False, f"no document: {docs[name].doc_error}")
            continue
        markup = title_markup(inputs[0]) + [False] * len(doc.entries)
        want_title = plain(feed.get("title"), markup[0])
        title.record(name, doc.title == want_title, f"{doc.title[:70]!r} != expected {want_title[:70]!r}")
        items = feed.get("items") or []
        ours = [e.title for e in doc.entries]
        want = [plain(i.get("title"), m) for i, m in zip(items, markup[1:], strict=False)]
        titles.record(name, ours == want, _first_diff(ours, want))
        base = BASE_URL + name
        ok = len(doc.entries) == len(items) and all(
            _links_agree(e.url, [i.get("link") or ""], base) for e, i in zip(doc.entries, items, strict=False)
        )
        ours_links = [e.url for e in doc.entries]
        want_links = [urljoin(base, i.get("link") or "") if i.get("link") else "" for i in items]
        links.record(name, ok, _first_diff(ours_links, want_links))
    return [title, titles, links]


def fidelity_gofeed(corpora: Path, docs: dict[str, Outcome]) -> list[Tally]:
    tallies: list[Tally] = []
    for kind, key in (("rss", "items"), ("atom", "entries")):
        tally = Tally(f"gofeed {kind} titles")
        for expected_path in sorted((corpora / "gofeed-testdata" / "parser" / kind).glob("*.json")):
            expected = _load_json(expected_path)
            items = expected.get(key) or []
            if not expected.get("title") and not any(i.get("title") for i in items):
                continue
            name = expected_path.with_suffix(".xml").relative_to(corpora).as_posix()
            if name not in docs:
                continue
            doc = docs[name].doc
            if doc is None:
                tally.record(name, False, f"no document: {docs[name].doc_error}")
                continue
            ours = [doc.title] + [e.title for e in doc.entries]
            markup = title_markup(expected_path.with_suffix(".xml")) + [False] * (1 + len(items))
            want = [plain(expected.get("title"), markup[0])]
            want += [plain(i.get("title"), m) for i, m in zip(items, markup[1:], strict=False)]
            diff = _first_diff(ours, want).replace("entry 0:", "feed title:")
            tally.record(name, ours == want, diff)
        tallies.append(tally)
    return tallies


FIDELITY_FLOORS = {
    "feed-rs title": 61,
    "feed-rs entry count": 61,
    "feed-rs links": 55,
    "rss-parser title": 28,
    "rss-parser item titles": 26,
    "rss-parser links": 26,
    "gofeed rss titles": 29,
    "gofeed atom titles": 37,
}


def check_fidelity(corpora: Path, outcomes: Sequence[Outcome]) -> tuple[Check, dict[str, float]]:
    docs = {o.file.name: o for o in outcomes}
    tallies = (
        fidelity_feed_rs(corpora, docs) + fidelity_rss_parser(corpora, docs) + fidelity_gofeed(corpora, docs)
    )
    passed = all(t.agree >= FIDELITY_FLOORS[t.label] for t in tallies)
    target = ", ".join(f"{k} >= {v}" for k, v in FIDELITY_FLOORS.items())
    details = [m for t in tallies for m in t.misses]
    check = Check("4 field fidelity", "; ".join(map(str, tallies)), target, passed, details)
    return check, {t.label.replace(" ", "_"): float(t.agree) for t in tallies}


# --------------------------------------------------------------------------- encodings

ENCODING_FOLDERS = (
    "miniflux-feeds/parser/",
    "miniflux-feeds/encoding/",
    "miniflux-feeds/xml/",
    "feedparser-tests/encoding/",
    "feedparser-tests/illformed/chardet/",
)

# What miniflux's Go tests assert (entry index -> title) and what the small charset
# cases visibly contain; a wrong decoding cannot produce these strings.
EXPECTED_TEXT: dict[str, tuple[int | None, str]] = {
    "miniflux-feeds/parser/urdu_UTF8.xml": (
        0,
        "امریکی عسکری امداد کی بندش کی وجوہات: انڈیا سے جنگ، جوہری پروگرام اور اب دہشت گردوں کی پشت پناہی",
    ),
    "miniflux-feeds/parser/encoding_WINDOWS-1251.xml": (0, "Цитата #17703"),
    "miniflux-feeds/parser/no_encoding_ISO-8859-1.xml": (2, "La criminalité liée surtout à... l'ennui ?"),
    "miniflux-feeds/parser/encoding_ISO-8859-1.xml": (
        5,
        "Projekt Jedi: Microsoft will weiter mit US-Militär zusammenarbeiten",
    ),
    "miniflux-feeds/parser/rdf_UTF8.xml": (1, "Mega-Deal: IBM übernimmt Red Hat"),
    "miniflux-feeds/encoding/utf8.xml": (0, "Café"),
    "miniflux-feeds/encoding/utf8-incorrect-prolog.xml": (0, "Café"),
    "miniflux-feeds/encoding/invalid-prolog.xml": (0, "Café"),
    "miniflux-feeds/encoding/iso-8859-1.xml": (None, "Café"),
    "miniflux-feeds/encoding/windows-1252.xml": (None, "Euro €"),
    "miniflux-feeds/encoding/windows-1252-incorrect-prolog.xml": (None, "Euro €"),
    "miniflux-feeds/encoding/koi8r.xml": (None, "Пример RSS ленты"),
    "miniflux-feeds/xml/koi8r.xml": (None, "Пример RSS ленты"),
}

# Declared charset -> the script its non-ASCII letters must be in.
_SCRIPT_OF_CHARSET = {
    "koi8": "CYRILLIC",
    "1251": "CYRILLIC",
    "8859-5": "CYRILLIC",
    "euc-jp": "CJK|IDEOGRAPHIC|HIRAGANA|KATAKANA|FULLWIDTH|HALFWIDTH",
    "eucjp": "CJK|IDEOGRAPHIC|HIRAGANA|KATAKANA|FULLWIDTH|HALFWIDTH",
    "shift": "CJK|IDEOGRAPHIC|HIRAGANA|KATAKANA|FULLWIDTH|HALFWIDTH",
    "sjis": "CJK|IDEOGRAPHIC|HIRAGANA|KATAKANA|FULLWIDTH|HALFWIDTH",
    "gb": "CJK|IDEOGRAPHIC|FULLWIDTH",
    "big5": "CJK|IDEOGRAPHIC|FULLWIDTH",
    "euc-kr": "HANGUL|CJK|IDEOGRAPHIC|FULLWIDTH",
    "euckr": "HANGUL|CJK|IDEOGRAPHIC|FULLWIDTH",
    "tis-620": "THAI",
    "tis620": "THAI",
    "1255": "HEBREW",
    "8859-8": "HEBREW",
    "8859-1": "LATIN",
    "1252": "LATIN",
}


def expected_script(feed: FeedFile) -> str | None:
    """The script a file's letters must be in, from its declared or named charset."""
    label = (feed.charset or "").lower()
    if not label:
        m = _XML_ENCODING.match(feed.body[:200])
        label = m.group(1).decode("ascii").lower() if m else ""
    stem = feed.name.rsplit("/", 1)[-1].lower()
    if feed.name.startswith("feedparser-tests/illformed/chardet/"):
        label = stem  # undeclared on purpose; the file name says what it is
    if "urdu" in stem:
        return "ARABIC"
    for key, script in _SCRIPT_OF_CHARSET.items():
        if key in label:
            return script
    return None


_CP1252_RUN = re.compile(
    "[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]{2,}"
)


def mojibake(text: str) -> str | None:
    """UTF-8 read as a single-byte charset: a run that re-encodes to valid UTF-8."""
    for run in _CP1252_RUN.findall(text):
        for codec in ("cp1252", "latin-1"):
            try:
                fixed = run.encode(codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if fixed != run:
                return f"{run!r} reads as {fixed!r} (UTF-8 decoded as {codec})"
    return None


def wrong_script(text: str, script: str) -> str | None:
    """The first non-ASCII letter outside the script the declared charset implies."""
    allowed = tuple(script.split("|"))
    for ch in text:
        if ord(ch) < 128 or not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if not name.startswith(allowed):
            return f"{ch!r} ({name or hex(ord(ch))}) in a {script.lower()} document"
    return None


def encoding_problems(o: Outcome) -> list[str]:
    """U+FFFD, mojibake, letters in the wrong script, or an expected string missing."""
    if o.doc is None:
        return []
    # A file with a known expected string is checked against it instead: some of those
    # declare a charset that is wrong on purpose.
    script = None if o.file.name in EXPECTED_TEXT else expected_script(o.file)
    texts = [("feed title", o.doc.title)]
    for i, e in enumerate(o.doc.entries):
        texts += [(f"entry {i} title", e.title), (f"entry {i} summary", e.summary)]
    found: list[str] = []
    for label, text in texts:
        if "\ufffd" in text:
            found.append(f"{label}: U+FFFD in {text[:60]!r}")
        if why := mojibake(text):
            found.append(f"{label}: mojibake {why}")
        if script and (why := wrong_script(text, script)):
            found.append(f"{label}: {why}")
    if o.file.name in EXPECTED_TEXT:
        index, want = EXPECTED_TEXT[o.file.name]
        if index is None:
            got = " | ".join(t for _, t in texts)
            ok = want in got
        else:
            got = o.doc.entries[index].title if index < len(o.doc.entries) else "<no such entry>"
            ok = got == want
        if not ok:
            found.append(f"expected {want!r}, got {got[:80]!r}")
    return found


def check_encodings(outcomes: Sequence[Outcome]) -> tuple[Check, dict[str, float]]:
    scope = [o for o in outcomes if o.file.name.startswith(ENCODING_FOLDERS)]
    details: list[str] = []
    failing = 0
    expected_seen = 0
    for o in scope:
        found = encoding_problems(o)
        failing += bool(found)
        expected_seen += o.file.name in EXPECTED_TEXT and o.doc is not None
        details += [f"{o.file.name}: {what}" for what in found]
        if o.doc is None and o.file.name in EXPECTED_TEXT:
            failing += 1
            details.append(f"{o.file.name}: no document ({o.doc_error})")
    with_output = sum(1 for o in scope if o.doc is not None)
    check = Check(
        "5 encodings",
        f"{failing} files with U+FFFD/mojibake/wrong text, of {with_output} with output "
        f"({len(scope)} files; {expected_seen}/{len(EXPECTED_TEXT)} known strings checked)",
        "no U+FFFD, no mojibake",
        failing == 0,
        details,
    )
    return check, {"failing_files": float(failing)}


def check_dedup(corpora: Path) -> tuple[Check, dict[str, float]]:
    keys: set[str] = set()
    total = 0
    details: list[str] = []
    for name in ("miniflux-feeds/parser/large_atom.xml", "miniflux-feeds/parser/large_rss.xml"):
        try:
            entries = parse_feed((corpora / name).read_bytes(), source=name, final_url=BASE_URL + name)
        except FeedError as exc:
            details.append(str(exc))
            continue
        total += len(entries)
        keys.update(normalize_url(e.url) for e in entries)
        details.append(f"{name}: {len(entries)} entries")
    check = Check(
        "8 dedup",
        f"{len(keys)} unique of {total} items",
        "25 unique items, not 50",
        len(keys) == 25 and total == 50,
        details,
    )
    return check, {"unique": float(len(keys))}


# --------------------------------------------------------------------------- extraction


@dataclass(frozen=True)
class Extracted:
    """One page through ``extract_article``: text, or the typed error, or a crash."""

    key: str
    text: str | None
    error: str | None = None
    crash: str | None = None
    seconds: float = 0.0


def extract_page(job: tuple[str, str, str]) -> Extracted:
    """Run the project's extractor on one stored page (in a worker process)."""
    key, path, url = job
    raw = Path(path).read_bytes()
    html = gzip.decompress(raw) if path.endswith(".gz") else raw
    started = time.perf_counter()
    try:
        article = extract_article(html, url, ZONE)
    except ExtractError as exc:
        return Extracted(key, None, error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - a crash is what is being counted
        return Extracted(
            key, None, crash=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - started
        )
    return Extracted(key, article.text, seconds=time.perf_counter() - started)


def extract_all(jobs: Sequence[tuple[str, str, str]], workers: int) -> dict[str, Extracted]:
    if workers <= 1:
        return {r.key: r for r in map(extract_page, jobs)}
    with ProcessPoolExecutor(workers) as pool:
        return {r.key: r for r in pool.map(extract_page, jobs, chunksize=4)}


def snippet_counts(text: str | None, item: dict[str, Any]) -> tuple[int, int, int, int]:
    """trafilatura's scoring of one page: ``with`` snippets found (TP) or missed (FN),
    ``without`` snippets found (FP) or absent (TN); no text counts as all missing."""
    withs, withouts = item["with"], item["without"]
    if not text:
        return 0, 0, len(withs), len(withouts)
    haystack = fold(text)
    tp = sum(1 for s in withs if fold(s) in haystack)
    fp = sum(1 for s in withouts if fold(s) in haystack)
    return tp, fp, len(withs) - tp, len(withouts) - fp


def trafilatura_jobs(
    corpora: Path, limit: int | None = None
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    root = corpora / "trafilatura-news-eval"
    evaldata: dict[str, Any] = _load_json(root / "evaldata-news-subset.json")
    jobs = [(url, str(root / "html" / item["file"]), url) for url, item in evaldata.items()]
    return evaldata, jobs[:limit]


def score_trafilatura(
    evaldata: dict[str, Any], results: dict[str, Extracted]
) -> tuple[Check, dict[str, float]]:
    tp = fp = fn = 0
    details: list[str] = []
    for key, r in results.items():
        a, b, c, _ = snippet_counts(r.text, evaldata[key])
        tp, fp, fn = tp + a, fp + b, fn + c
        if r.crash or r.error:
            details.append(f"{evaldata[key]['file']}: {r.crash or r.error} ({key})")
        elif c or b:
            details.append(f"{evaldata[key]['file']}: {c} 'with' missing, {b} 'without' present")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    crashes = sum(1 for r in results.values() if r.crash)
    empty = sum(1 for r in results.values() if not r.text)
    check = Check(
        "6 extraction trafilatura-news-eval",
        f"F1 {f1:.3f} (P {precision:.3f}, R {recall:.3f}; TP {tp}, FP {fp}, FN {fn}) on "
        f"{len(results)} pages; {crashes} crashes; {empty} without text",
        "F1 >= 0.92 (trafilatura default 0.929, fast 0.903); 0 crashes; all pages non-empty",
        f1 >= 0.92 and crashes == 0 and empty == 0,
        details,
    )
    metrics = {"f1": round(f1, 4), "crashes": float(crashes), "empty": float(empty)}
    return check, metrics


_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles (a text shorter than n is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def shingle_counts(truth: str, prediction: str) -> tuple[float, float, float]:
    """TP/FP/FN over shingles, as shares of their sum so every page weighs the same."""
    t, p = shingles(truth), shingles(prediction)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def shingle_scores(counts: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Precision and recall averaged over pages (pages with an empty denominator skipped), F1."""

    def ratio(tp: float, other: float, fp: float, fn: float) -> float:
        if fp == fn == 0:
            return 1.0
        return tp / (tp + other) if tp + other else 0.0

    precisions = [ratio(tp, fp, fp, fn) for tp, fp, fn in counts if tp + fp > 0]
    recalls = [ratio(tp, fn, fp, fn) for tp, fp, fn in counts if tp + fn > 0]
    p = statistics.fmean(precisions) if precisions else 0.0
    r = statistics.fmean(recalls) if recalls else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def scrapinghub_jobs(
    corpora: Path, limit: int | None = None
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    root = corpora / "scrapinghub-article-extraction-benchmark"
    truth: dict[str, Any] = _load_json(root / "ground-truth.json")
    jobs = [(key, str(root / "html" / f"{key}.html.gz"), item["url"]) for key, item in truth.items()]
    return truth, jobs[:limit]


def score_scrapinghub(truth: dict[str, Any], results: dict[str, Extracted]) -> tuple[Check, dict[str, float]]:
    counts = []
    details: list[str] = []
    for key, page in results.items():
        c = shingle_counts(truth[key].get("articleBody", ""), page.text or "")
        counts.append(c)
        if page.crash or page.error:
            details.append(f"{key[:12]}: {page.crash or page.error} ({truth[key]['url']})")
        elif c[0] < 0.5:
            details.append(f"{key[:12]}: shingle TP share {c[0]:.2f} ({truth[key]['url']})")
    p, r, f1 = shingle_scores(counts)
    crashes = sum(1 for x in results.values() if x.crash)
    empty = sum(1 for x in results.values() if not x.text)
    check = Check(
        "7 extraction scrapinghub",
        f"shingle F1 {f1:.3f} (P {p:.3f}, R {r:.3f}) on {len(results)} pages; {crashes} crashes; "
        f"{empty} without text",
        "F1 >= 0.95 (trafilatura 2.3.1 0.953); 0 crashes",
        f1 >= 0.95 and crashes == 0,
        details,
    )
    return check, {"f1": round(f1, 4), "crashes": float(crashes)}


# --------------------------------------------------------------------------- the run


def evaluate_feeds(corpora: Path, report: Report) -> list[Outcome]:
    outcomes = [normalise(f) for f in feed_files(corpora)]
    report.add(*check_robustness(outcomes))
    report.add(*check_bozo(outcomes))
    report.add(*check_sanitising(outcomes))
    report.add(*check_fidelity(corpora, outcomes))
    report.add(*check_encodings(outcomes))
    return outcomes


def evaluate_extraction(corpora: Path, report: Report, workers: int) -> None:
    evaldata, jobs_t = trafilatura_jobs(corpora)
    truth, jobs_s = scrapinghub_jobs(corpora)
    results = extract_all(jobs_t + jobs_s, workers)
    report.add(*score_trafilatura(evaldata, {k: results[k] for k, _, _ in jobs_t}))
    report.add(*score_scrapinghub(truth, {k: results[k] for k, _, _ in jobs_s}))
    slowest = max(results.values(), key=lambda r: r.seconds)
    report.notes.append(
        f"slowest page: {slowest.key} ({slowest.seconds:.1f} s wall clock; the first page in a "
        "process that needs htmldate's dateparser fallback pays its warm-up)"
    )


# Figures where more is worse; every other pinned figure must not drop.
LOWER_IS_BETTER = re.compile(r"(uncaught|unreadable|failures|failing|crashes|empty)")


def compare_baseline(metrics: dict[str, float], baseline: dict[str, float]) -> list[str]:
    """Every pinned figure that got worse (or went missing)."""
    regressions: list[str] = []
    for key, pinned in sorted(baseline.items()):
        if key not in metrics:
            regressions.append(f"{key}: not measured (pinned {pinned:g})")
            continue
        value = metrics[key]
        worse = value > pinned if LOWER_IS_BETTER.search(key) else value < pinned
        if worse:
            regressions.append(f"{key}: {value:g}, pinned baseline {pinned:g}")
    return regressions


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def summary_markdown(report: Report, baseline: dict[str, float], regressions: list[str]) -> str:
    """The results file: the criteria, every pinned figure, then every mismatch by file."""
    lines = [
        "# Real-world corpora: results",
        "",
        "Written by `make eval-corpora` (`python -m eval.corpora`); criteria from",
        "`../shared/corpora/README.md`, figures pinned in `eval/corpora_baseline.json`.",
        "",
        "| criterion | measured | target (README) | result |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c.criterion} | {_cell(c.measured)} | {_cell(c.target)} | {'pass' if c.passed else 'FAIL'} |"
        for c in report.checks
    ]
    lines += ["", "| figure | measured | pinned baseline | result |", "|---|---|---|---|"]
    bad = {r.split(":")[0] for r in regressions}
    for key in sorted(set(report.metrics) | set(baseline)):
        value = report.metrics.get(key)
        pinned = baseline.get(key)
        shown = "-" if value is None else f"{value:g}"
        verdict = "WORSE" if key in bad else "ok"
        lines.append(f"| {key} | {shown} | {'-' if pinned is None else f'{pinned:g}'} | {verdict} |")
    lines += ["", "## Details (every mismatch, by file)", ""]
    for c in report.checks:
        lines += [f"### {c.criterion}", ""]
        lines += [f"- {_cell(d)}" for d in c.details] or ["- (nothing to report)"]
        lines.append("")
    return "\n".join(lines)


def summary_table(report: Report, regressions: list[str]) -> str:
    """The plain-text table printed at the end of a run (cells wrapped to fit a terminal)."""
    widths = (22, 58, 40, 6)
    rows = [("criterion", "measured", "target (README)", "result")]
    rows += [(c.criterion, c.measured, c.target, "pass" if c.passed else "FAIL") for c in report.checks]
    rule = "+".join("-" * (w + 2) for w in widths)
    out = [rule]
    for n, row in enumerate(rows):
        cells = [textwrap.wrap(text, w) or [""] for text, w in zip(row, widths, strict=True)]
        for i in range(max(map(len, cells))):
            parts = [(c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True)]
            out.append(" " + " | ".join(parts))
        if n == 0 or n == len(rows) - 1:
            out.append(rule)
    verdict = "no figure worse than pinned" if not regressions else "WORSE: " + "; ".join(regressions)
    out.append(f"baseline ({len(report.metrics)} figures): {verdict}")
    return "\n".join(out)


def load_baseline(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data["figures"].items()}


def write_baseline(path: Path, metrics: dict[str, float]) -> None:
    figures = dict(sorted(metrics.items()))
    note = (
        "Figures eval/corpora.py holds the code to: a run fails when one gets worse "
        "(counts of failures may not rise, everything else may not drop). "
        "Refresh with `python -m eval.corpora --update-baseline` only after an improvement."
    )
    path.write_text(json.dumps({"note": note, "figures": figures}, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.corpora", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=Path(os.environ.get("CORPORA", DEFAULT_CORPORA)))
    parser.add_argument("--baseline", type=Path, default=BASELINE_FILE)
    parser.add_argument("--results", type=Path, default=RESULTS_FILE)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--feeds-only", action="store_true", help="skip the two page sets (fast)")
    parser.add_argument(
        "--update-baseline", action="store_true", help="pin this run's figures (full runs only)"
    )
    args = parser.parse_args(argv)
    corpora: Path = args.corpora
    if not (corpora / "README.md").is_file():
        print(f"eval-corpora: no corpora at {corpora} (set CORPORA=/path/to/corpora)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = Report()
    evaluate_feeds(corpora, report)
    report.add(*check_dedup(corpora))
    if not args.feeds_only:
        evaluate_extraction(corpora, report, args.workers)
    report.checks.sort(key=lambda c: c.criterion)
    if args.update_baseline and not args.feeds_only:
        write_baseline(args.baseline, report.metrics)
        print(f"pinned {len(report.metrics)} figures in {args.baseline}")
    baseline = load_baseline(args.baseline)
    if args.feeds_only:
        baseline = {k: v for k, v in baseline.items() if not k.startswith("extraction_")}
    regressions = compare_baseline(report.metrics, baseline)
    seconds = time.perf_counter() - started
    if not args.feeds_only:  # the results file always shows a full run
        args.results.write_text(summary_markdown(report, baseline, regressions), encoding="utf-8")
    for c in report.checks:
        for line in c.details:
            print(f"[{c.criterion.split()[0]}] {line}")
    print(*report.notes, sep="\n")
    print()
    print(summary_table(report, regressions))
    failed = [c.criterion for c in report.checks if not c.passed]
    if failed or regressions:
        print(f"eval-corpora: FAILED ({', '.join(failed + [r.split(':')[0] for r in regressions])})")
        return 1
    print(f"eval-corpora: all criteria pass ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
