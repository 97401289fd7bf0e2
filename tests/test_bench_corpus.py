"""The benchmark corpus: deterministic from its seed, and what it serves is what a collector meets.

No timings here: ``make bench`` measures, these tests only check that the corpus is
worth measuring on (its pages extract, its feeds parse, its server speaks HTTP).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench import launch
from bench.corpus import Corpus, CorpusSpec, build_corpus, local_time
from bench.prose import Piece
from bench.server import serving
from bench.steps import synthetic_pieces
from osint.extract import extract_article
from osint.parse import parse_feed

SMALL = CorpusSpec(feeds=16, pages_per_feed=2, seed=11)
LAYOUTS = {"cms", "wordpress", "legacy", "portal"}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return build_corpus(SMALL, 8080, compress=False)


def _digest(c: Corpus) -> dict[tuple[str, str], str]:
    return {key: hashlib.sha1(r.body).hexdigest() for key, r in c.resources.items()}


def test_same_seed_same_bytes_other_seed_other_corpus(corpus: Corpus) -> None:
    again = build_corpus(SMALL, 8080, compress=False)
    assert _digest(again) == _digest(corpus)
    other = build_corpus(CorpusSpec(feeds=16, pages_per_feed=2, seed=12), 8080, compress=False)
    assert _digest(other) != _digest(corpus)


def test_same_seed_same_bytes_in_another_process_with_other_hash_seed(corpus: Corpus) -> None:
    code = (
        "import hashlib; from bench.corpus import CorpusSpec, build_corpus; "
        "c = build_corpus(CorpusSpec(feeds=16, pages_per_feed=2, seed=11), 8080, compress=False); "
        "print(hashlib.sha1(b''.join(c.resources[k].body for k in sorted(c.resources))).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    here = hashlib.sha1(b"".join(corpus.resources[k].body for k in sorted(corpus.resources))).hexdigest()
    assert out == here


def test_corpus_has_the_promised_shape(corpus: Corpus) -> None:
    assert len(corpus.feeds) == 16
    assert corpus.page_count() == SMALL.pages
    assert {o.layout for o in corpus.outlets} == LAYOUTS
    assert {o.feed_format for o in corpus.outlets} == {"rss", "atom", "rdf"}
    big = build_corpus(CorpusSpec(feeds=20, pages_per_feed=10, seed=11), 8080, compress=False)
    kinds = Counter(p.kind for p in big.pieces)
    assert kinds["original"] and kinds["copy"] and kinds["irrelevant"], kinds
    assert {p.language for p in big.pieces} == {"en", "ru", "mn"}
    days = {p.published.date() for p in big.pieces}
    assert (max(days) - min(days)).days >= 21
    sizes = sorted(len(r.body) for r in big.resources.values() if r.kind == "page")
    assert 30_000 < sizes[len(sizes) // 2] < 150_000


def _page(c: Corpus, piece: Piece) -> bytes:
    return c.resources[(c.host(piece.outlet), c.paths[(piece.outlet.index, piece.number)])].body


def test_every_page_extracts_to_its_article(corpus: Corpus) -> None:
    zone = ZoneInfo("Asia/Ulaanbaatar")
    for piece in corpus.pieces:
        art = extract_article(_page(corpus, piece), corpus.piece_url(piece), zone)
        where = f"{piece.outlet.layout} {corpus.piece_url(piece)}"
        assert art.title == piece.title, where
        assert art.published is not None and art.published.date() == local_time(piece).date(), where
        assert piece.paragraphs[1][:60] in art.text, where
        assert "All rights reserved" not in art.text, where
        assert "Most read" not in art.text and "Recent Posts" not in art.text, where


def test_every_feed_parses_to_its_pages(corpus: Corpus) -> None:
    for feed in corpus.feeds:
        url = corpus.url(feed.outlet, feed.path)
        body = corpus.resources[(corpus.host(feed.outlet), feed.path)].body
        entries = parse_feed(body, source=feed.outlet.name, final_url=url)
        assert [e.url for e in entries] == [corpus.piece_url(p) for p in feed.pieces], url
        assert [e.title for e in entries] == [p.title for p in feed.pieces], url
        for entry, piece in zip(entries, feed.pieces, strict=True):
            assert entry.published is not None
            assert entry.published.astimezone(UTC) == piece.published.replace(microsecond=0), url


def test_synthetic_items_are_deterministic() -> None:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    a = synthetic_pieces(300, 5, start, 14)
    b = synthetic_pieces(300, 5, start, 14)
    assert len(a) == 300
    assert [(p.title, p.text, p.published) for p in a] == [(p.title, p.text, p.published) for p in b]
    copies = [p for p in a if p.kind == "copy"]
    assert copies and all(p.copy_of is not None for p in copies)


def _get(port: int, host: str, path: str, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": f"{host}:{port}", **headers})
    return conn.getresponse()


def test_server_serves_hosts_gzip_and_conditional_get() -> None:
    spec = CorpusSpec(feeds=2, pages_per_feed=2, seed=3)
    with serving(spec, latency=0) as (corpus, server):
        feed = corpus.feeds[0]
        host = corpus.host(feed.outlet)
        res = corpus.resources[(host, feed.path)]
        plain = _get(server.port, host, feed.path)
        assert plain.status == 200 and plain.read() == res.body
        etag = plain.getheader("ETag")
        assert etag
        zipped = _get(server.port, host, feed.path, **{"Accept-Encoding": "gzip"})
        assert zipped.getheader("Content-Encoding") == "gzip"
        assert gzip.decompress(zipped.read()) == res.body
        again = _get(server.port, host, feed.path, **{"If-None-Match": etag})
        assert again.status == 304 and again.read() == b""
        assert _get(server.port, "elsewhere.localhost", feed.path).status == 404
        server.conditional = False
        assert _get(server.port, host, feed.path, **{"If-None-Match": etag}).status == 200
        assert server.stats["feed:200"] == 3 and server.stats["feed:304"] == 1


def test_launcher_resolves_dot_localhost_to_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", launch._loopback_getaddrinfo)
    infos = socket.getaddrinfo("steppe-herald-0.localhost", 80, type=socket.SOCK_STREAM)
    assert {info[4][0] for info in infos} == {"127.0.0.1"}
    infos = socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
    assert {info[4][0] for info in infos} == {"127.0.0.1"}
