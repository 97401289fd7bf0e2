"""Fast subsets of ``make eval-corpora`` (eval/corpora.py), plus the normaliser and
extractor behaviours those corpora revealed.

The corpus tests read ``../shared/corpora`` (third-party test data kept outside the repo)
and are skipped with a reason when it is absent; the behaviour tests at the end build
their own inputs and always run. Full figures: ``make eval-corpora``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eval.corpora import (
    BASE_URL,
    DEFAULT_CORPORA,
    EMPTY_DOCUMENTS,
    EXPECTED_TEXT,
    Extracted,
    active_content,
    check_bozo,
    check_dedup,
    check_encodings,
    check_robustness,
    check_sanitising,
    compare_baseline,
    extract_page,
    feed_file,
    feed_files,
    fidelity_rss_parser,
    mojibake,
    normalise,
    sanitise_failures,
    score_trafilatura,
    scrapinghub_jobs,
    shingle_counts,
    shingle_scores,
    snippet_counts,
    trafilatura_jobs,
)
from osint.errors import FeedError
from osint.extract import json_ld_article_body
from osint.models import Entry, FeedDocument
from osint.parse import parse_feed, parse_feed_document

CORPORA = Path(os.environ.get("CORPORA", DEFAULT_CORPORA))
needs_corpora = pytest.mark.skipif(
    not (CORPORA / "README.md").is_file(),
    reason=f"third-party corpora not found at {CORPORA} (set CORPORA=/path/to/corpora)",
)


# --------------------------------------------------------------------------- corpus subsets


@needs_corpora
def test_illformed_and_encoding_feeds_give_a_result_or_one_readable_error() -> None:
    folders = [
        "feedparser-tests/illformed",
        "miniflux-feeds/encoding",
        "miniflux-feeds/xml",
        "newsboat-feeds",
    ]
    outcomes = [normalise(f) for f in feed_files(CORPORA, folders)]
    check, metrics = check_robustness(outcomes)
    assert len(outcomes) > 25
    assert check.passed, check.details
    assert metrics["uncaught"] == 0


@needs_corpora
def test_every_bozo_file_is_flagged_and_empty_documents_are_errors() -> None:
    feeds = feed_files(CORPORA, ["feedparser-tests/illformed", "feedparser-tests/encoding"])
    outcomes = [normalise(f) for f in feeds if f.expect.startswith("bozo")]
    outcomes += [normalise(feed_file(CORPORA, name)) for name in EMPTY_DOCUMENTS[1:]]
    assert EMPTY_DOCUMENTS[0] in {o.file.name for o in outcomes}  # itself a bozo file
    check, _ = check_bozo(outcomes)
    assert check.passed, check.details


@needs_corpora
def test_bozo_http_cases_need_their_content_type_header() -> None:
    """Served as text/plain, the feed is flagged; the same bytes alone are not malformed."""
    feed = feed_file(CORPORA, "feedparser-tests/encoding/bozo_http_text_plain_charset.xml")
    assert feed.content_type == "text/plain" and feed.charset == "utf-8"
    with pytest.raises(FeedError, match="not served as XML: text/plain"):
        parse_feed(feed.body, source=feed.name, final_url=feed.final_url, content_type=feed.content_type)
    doc = parse_feed_document(feed.body, source=feed.name, final_url=feed.final_url)
    assert doc.problems == []


@needs_corpora
def test_sanitize_corpus_leaves_no_active_content() -> None:
    feeds = feed_files(CORPORA, ["feedparser-tests/wellformed/sanitize"])
    check, metrics = check_sanitising([normalise(f) for f in feeds[::3]] + [normalise(f) for f in feeds[-3:]])
    assert metrics["failures_sanitize"] == 0, check.details


@needs_corpora
def test_legacy_and_mislabelled_encodings_decode_cleanly() -> None:
    folders = ["miniflux-feeds/encoding", "miniflux-feeds/xml", "feedparser-tests/illformed/chardet"]
    feeds = feed_files(CORPORA, folders) + [feed_file(CORPORA, n) for n in EXPECTED_TEXT if "/parser/" in n]
    check, _ = check_encodings([normalise(f) for f in feeds])
    assert check.passed, check.details
    assert "13/13 known strings" in check.measured


@needs_corpora
def test_rss_parser_fixtures_agree_on_titles_and_links() -> None:
    names = ["guardian.rss", "heise.atom", "uolNoticias.rss", "encoding.rss", "reddit.rss", "itunes-href.rss"]
    feeds = [feed_file(CORPORA, f"rss-parser-fixtures/input/{n}") for n in names]
    title, titles, links = fidelity_rss_parser(CORPORA, {f.name: normalise(f) for f in feeds})
    assert (title.agree, title.total) == (6, 6), title.misses
    # uolNoticias: rss-parser's own expected titles carry U+FFFD; ours are right.
    assert titles.agree == 5 and "uolNoticias" in titles.misses[0], titles.misses
    assert (links.agree, links.total) == (6, 6), links.misses


@needs_corpora
def test_the_same_posts_as_atom_and_rss_are_25_items() -> None:
    check, metrics = check_dedup(CORPORA)
    assert check.passed and metrics["unique"] == 25


@needs_corpora
def test_shingle_metric_reproduces_the_published_trafilatura_baseline() -> None:
    """Upstream's stored trafilatura 2.0.0 output scores F1 0.958 (P 0.938, R 0.978)."""
    truth, _ = scrapinghub_jobs(CORPORA)
    stored = json.loads(
        (CORPORA / "scrapinghub-article-extraction-benchmark/baseline-output/trafilatura.json").read_text()
    )["output"]
    counts = [shingle_counts(truth[k]["articleBody"], stored[k]["articleBody"]) for k in truth]
    precision, recall, f1 = shingle_scores(counts)
    assert (round(precision, 3), round(recall, 3), round(f1, 3)) == (0.938, 0.978, 0.958)


@needs_corpora
def test_extraction_on_a_few_pages_of_each_set() -> None:
    evaldata, jobs = trafilatura_jobs(CORPORA)
    picked = [j for j in jobs if any(s in j[1] for s in ("bbc.com", "scmp.com", "threatpost"))]
    results = {r.key: r for r in map(extract_page, picked)}
    check, metrics = score_trafilatura(evaldata, results)
    assert len(results) == 3 and metrics["crashes"] == 0 and metrics["empty"] == 0, check.details
    assert metrics["f1"] >= 0.85, check.details  # SCMP's JSON-LD body quotes 2 related headlines
    scmp = next(r for r in results.values() if "scmp.com" in r.key)
    assert scmp.text and "almost insulting to Hongkongers" in scmp.text  # only in its JSON-LD
    truth, jobs = scrapinghub_jobs(CORPORA, limit=3)
    for job in jobs:
        result = extract_page(job)
        assert result.text, result.error
        assert shingle_counts(truth[job[0]]["articleBody"], result.text)[0] > 0.6


# --------------------------------------------------------------------------- the checks can fail


def test_active_content_is_found_wherever_it_hides() -> None:
    doc = FeedDocument(
        title="Plain <b>ok</b>",
        entries=[
            Entry(source="s", url="javascript:alert(1)", title="<img src=x onerror=alert(1)>"),
            Entry(source="s", url="https://example.org/a", summary='<a href=" java\tscript:x">y</a><style>'),
        ],
    )
    found = sanitise_failures(doc)
    assert any("onerror" in f for f in found)
    assert any("entry 0 url" in f and "non-http" in f for f in found)
    assert any("javascript: URL in href" in f for f in found)
    assert any("<style> element" in f for f in found)
    assert active_content("Q&A: 3 < 4 and javascript is fine as a word") == []


def test_mojibake_and_scoring_helpers() -> None:
    assert mojibake("CafÃ© and â‚¬") is not None
    assert mojibake("Café, € and Ñandú") is None
    item = {"with": ["alpha  beta", "gamma"], "without": ["delta"]}
    assert snippet_counts("alpha beta\ndelta", item) == (1, 1, 1, 0)
    assert snippet_counts(None, item) == (0, 0, 2, 1)
    assert shingle_counts("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    assert shingle_scores([shingle_counts("a b c d e", "")]) == (0.0, 0.0, 0.0)
    empty = Extracted("k", None, error="main text too short (12 characters)")
    check, metrics = score_trafilatura({"k": {"file": "f.html", **item}}, {"k": empty})
    assert not check.passed and metrics["empty"] == 1


def test_the_gate_fails_when_a_pinned_figure_gets_worse() -> None:
    pinned = {"x.f1": 0.95, "x.crashes": 0.0, "x.files": 10.0}
    assert compare_baseline({"x.f1": 0.96, "x.crashes": 0.0, "x.files": 10.0}, pinned) == []
    worse = compare_baseline({"x.f1": 0.94, "x.crashes": 1.0}, pinned)
    assert [w.split(":")[0] for w in worse] == ["x.crashes", "x.f1", "x.files"]


# --------------------------------------------------------------------------- behaviours the corpora revealed


def _rss(items: str, decl: bytes = b'<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return decl + b"<rss version='2.0'><channel><title>T</title>" + items.encode() + b"</channel></rss>"


def test_a_feed_declaring_a_legacy_charset_but_holding_utf8_is_read_as_utf8() -> None:
    body = _rss("<item><title>Euro € — Ölpreis</title><link>https://e.org/1</link></item>")
    body = body.replace(b"utf-8", b"windows-1252")
    doc = parse_feed_document(body, source="s", final_url=BASE_URL)
    assert doc.entries[0].title == "Euro € — Ölpreis"
    assert doc.problems == ["declared windows-1252, but the bytes are UTF-8; read as UTF-8"]


def test_stray_legacy_bytes_in_a_utf8_feed_do_not_garble_the_rest() -> None:
    body = _rss("<item><title>Ѩ and España</title><link>https://e.org/1</link></item>")
    body = body.replace("España".encode(), "España".encode("latin-1"))
    doc = parse_feed_document(body, source="s", final_url=BASE_URL)
    assert doc.entries[0].title == "Ѩ and España"
    assert "1 bytes are not UTF-8" in doc.problems[0]


def test_a_feed_without_content_type_or_declaration_is_utf8_and_not_a_problem() -> None:
    body = _rss("<item><title>Улаанбаатар</title><link>https://e.org/1</link></item>", decl=b"")
    doc = parse_feed_document(body, source="s", final_url=BASE_URL)
    assert doc.entries[0].title == "Улаанбаатар"
    assert doc.problems == []


def test_html_titles_are_decoded_to_plain_text_and_control_characters_dropped() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Q&amp;amp;A</title>'
        b'<entry><title type="html">AT&amp;amp;T &amp;lt;b&amp;gt; \x08x</title>'
        b'<link href="https://e.org/1"/></entry></feed>'
    )
    doc = parse_feed_document(body, source="s", final_url=BASE_URL)
    assert doc.title == "Q&A"
    assert doc.entries[0].title == "AT&T <b> x"


def test_whitespace_before_the_xml_declaration_is_not_malformed() -> None:
    body = b"\n\n" + _rss("<item><title>x</title><link>https://e.org/1</link></item>")
    assert parse_feed_document(body, source="s", final_url=BASE_URL).problems == []


def test_document_keeps_every_entry_and_the_collector_only_linked_unique_ones() -> None:
    items = (
        "<item><title>a</title><link>https://e.org/1</link></item>"
        "<item><title>b</title></item>"
        "<item><title>c</title><link>https://E.org/1#x</link></item>"
    )
    doc = parse_feed_document(_rss(items), source="s", final_url=BASE_URL)
    assert [e.url for e in doc.entries] == ["https://e.org/1", "", "https://E.org/1#x"]
    assert doc.title == "T"
    assert [e.title for e in parse_feed(_rss(items), source="s", final_url=BASE_URL)] == ["a"]


def test_malformed_feed_without_entries_says_why() -> None:
    with pytest.raises(FeedError, match=r"s: the feed has no entries \(not well-formed XML at line \d+"):
        parse_feed(
            b"<rss version='2.0'><channel><title>x</title>&bogus;</channel>", source="s", final_url=BASE_URL
        )


def test_json_ld_article_body_is_found_in_graphs_and_bad_json_is_skipped() -> None:
    body = "Ulaanbaatar and Beijing signed a mining agreement on Tuesday.\n\nIt covers &amp; <b>copper</b>."
    ld = json.dumps({"@graph": [{"@type": "WebPage"}, {"@type": "NewsArticle", "articleBody": body}]})
    html = (
        '<html><head><script type="application/ld+json">{not json</script>'
        f'<script type="application/ld+json">{ld}</script></head><body><p>Photo: AP</p></body></html>'
    ).encode()
    assert json_ld_article_body(html) == (
        "Ulaanbaatar and Beijing signed a mining agreement on Tuesday.\nIt covers & copper."
    )
    assert json_ld_article_body(b"<html><body><p>no structured data</p></body></html>") == ""
