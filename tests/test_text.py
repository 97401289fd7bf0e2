"""The shared text toolkit (osint.text) and the storage keys (osint.urls)."""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import Counter

import pytest

from osint.text import (
    ALL_STOPWORDS,
    MONTH_NAMES,
    MONTH_PATTERN,
    MONTHS,
    STOPWORDS,
    clean_text,
    content_words,
    dot,
    fold_space,
    has_controls,
    strip_controls,
    tfidf,
    tokenize,
    unit,
    words,
)
from osint.urls import absolute_http_url, content_hash, normalize_url


def test_tokens_split_on_punctuation_and_keep_scripts() -> None:
    assert tokenize("U.S. and Mongolia's Хүрэлсүх") == ["U", "S", "and", "Mongolia", "s", "Хүрэлсүх"]
    assert words("Улаанбаатар HOSTS the Talks") == ["улаанбаатар", "hosts", "the", "talks"]
    assert tokenize("蒙古国总统, 会见") == ["蒙古国总统", "会见"]  # a Han run stays one token


@pytest.mark.parametrize(
    ("language", "text", "kept"),
    [
        ("en", "The minister said that the talks will resume", ["minister", "talks", "resume"]),
        ("ru", "Министр заявил, что переговоры в Улан-Баторе будут", ["министр", "заявил", "переговоры", "улан", "баторе", "будут"]),
        ("mn", "Сайд энэ асуудлыг ярилцсан гэж мэдэгдэв", ["сайд", "асуудлыг", "ярилцсан", "мэдэгдэв"]),
        ("zh", "总统 的 访问", ["总统", "访问"]),
    ],
)  # fmt: skip
def test_stopwords_per_language(language: str, text: str, kept: list[str]) -> None:
    assert STOPWORDS[language] <= ALL_STOPWORDS
    assert content_words(text) == kept


def test_content_words_minimum_length() -> None:
    assert content_words("An MP of the UN or ex-PM", min_length=3) == []
    assert content_words("Border guards met", min_length=3) == ["border", "guards", "met"]


def test_tfidf_unit_vectors_and_cosine() -> None:
    bags = [Counter(a=2, b=1, common=1), Counter(a=1, c=3, common=1), Counter(d=1, common=1)]
    vectors = tfidf(bags)
    for vec in vectors:
        assert math.isclose(math.sqrt(sum(v * v for v in vec.values())), 1.0)
        assert "common" not in vec  # a term in every bag tells nothing
    n = 3
    idf_a = math.log((1 + n) / (1 + 2))
    idf_b = math.log((1 + n) / (1 + 1))
    wa, wb = (1 + math.log(2)) * idf_a, idf_b
    assert math.isclose(vectors[0]["a"], wa / math.hypot(wa, wb))
    assert dot(vectors[0], vectors[2]) == 0.0
    assert 0.0 < dot(vectors[0], vectors[1]) < 1.0
    assert math.isclose(dot(vectors[0], vectors[1]), dot(unit(vectors[1]), unit(vectors[0])))


def test_tfidf_keeps_the_strongest_terms() -> None:
    bags = [Counter(x=5, y=1, z=1), Counter(q=1)]
    (top, _other) = tfidf(bags, top_terms=1)
    assert list(top) == ["x"] and math.isclose(top["x"], 1.0)


def test_cosine_of_raw_counts() -> None:
    assert math.isclose(dot(unit({"a": 3.0, "b": 4.0}), unit({"a": 6.0, "b": 8.0})), 1.0)
    assert dot(unit({}), unit({"a": 1.0})) == 0.0
    assert unit({}) == {}


def test_months() -> None:
    assert MONTHS["September"] == MONTHS["Sept"] == MONTHS["Sep"] == 9
    assert MONTHS["May"] == 5 and MONTH_NAMES[11] == "December"
    assert len(set(MONTHS.values())) == 12
    m = re.search(rf"\b(?P<m>{MONTH_PATTERN})\.? 5\b", "due on Sept. 5")
    assert m is not None and m.group("m") == "Sept"


def test_controls_never_text() -> None:
    raw = "a\x00b\x08c\x1f\x7fd\x85e\ufffef\tg\nh\ri"
    assert strip_controls(raw) == "abcdef\tg\nh\ri"
    assert strip_controls(raw, keep="") == "abcdefghi"
    assert strip_controls("line\x0bbreak", replacement=" ") == "line break"
    assert strip_controls("zero\u200bwidth\u202eevil") == "zero\u200bwidth\u202eevil"  # visible mode keeps Cf


def test_hidden_characters() -> None:
    raw = "Sub\u200bject\u202e \u2028x\ufeff\ue000"
    assert strip_controls(raw, hidden=True) == "Subject x"
    assert has_controls(raw, hidden=True)
    assert not has_controls("Plain Кирилл 中文 text", hidden=True)
    assert has_controls("a\nb") and not has_controls("a\nb", keep="\n")


def test_hidden_table_matches_unicodedata() -> None:
    """Every control, format, private-use, surrogate and separator code point is removed;
    nothing else is. Fails on a Python with a newer Unicode: update ``_HIDDEN`` then."""
    hidden_categories = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}
    everything = "".join(chr(cp) for cp in range(sys.maxunicode + 1))
    kept = set(strip_controls(everything, hidden=True, keep=""))
    for cp in range(sys.maxunicode + 1):
        ch, cat = chr(cp), unicodedata.category(chr(cp))
        if cat in hidden_categories or cp in (0xFFFE, 0xFFFF):
            assert ch not in kept, f"U+{cp:04X} ({cat}) is not removed"
        else:
            assert ch in kept, f"U+{cp:04X} ({cat}) is removed"


def test_clean_text() -> None:
    assert clean_text("  Q&amp;A  on\x00 the\n\n border ", 100, html=True) == "Q&A on the border"
    assert clean_text("<p>Talks <b>resume</b></p>", 100, html=True) == "Talks resume"
    assert clean_text("<p>Talks<script>alert(1)</script> resume<style>p{}</style></p>", 100, html=True) == (
        "Talks resume"
    )
    # Text is text: what looks like a tag or an entity in it is kept, not decoded again.
    assert clean_text("<b>{{7*7}}</b> &amp; more", 100) == "<b>{{7*7}}</b> &amp; more"
    assert clean_text("plain text that is long", 10) == "plain text"


def test_fold_space_folds_every_kind_of_whitespace() -> None:
    """One space between words and none at the ends, whatever the whitespace: a no-break
    space, an ideographic space, a line separator, the ASCII separators str.split knows."""
    assert fold_space("  Talks\t resume\n\n on\u00a0the\u3000border\u2028 ") == "Talks resume on the border"
    assert fold_space("") == "" and fold_space(" \n\t ") == ""
    spaces = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert fold_space(f"a{spaces}b{spaces}") == "a b", "the same characters as str.split()"
    assert fold_space("zero\u200bwidth") == "zero\u200bwidth", "not whitespace: left to strip_controls"


def test_urls_and_hashes() -> None:
    assert (
        normalize_url("HTTPS://News.Example.MN/a?utm_source=x&id=3#top") == "https://news.example.mn/a?id=3"
    )
    assert normalize_url("http://example.mn") == "http://example.mn/"
    assert absolute_http_url("/story/1", "https://example.mn/feed") == "https://example.mn/story/1"
    assert absolute_http_url("javascript:alert(1)", "https://example.mn/") is None
    assert absolute_http_url("http://[broken/", "https://example.mn/") is None
    assert content_hash("Same  Text\n") == content_hash("same text")
    assert content_hash("same text") != content_hash("other text")
