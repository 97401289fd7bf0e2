"""Extraction's metadata: trafilatura's own for every field an article keeps.

``osint.extract`` reads a page's metadata in trafilatura's steps, less three whose
results an article never keeps (categories, tags, licence) and the search of the text
for an author's name. These tests hold the kept fields to ``extract_metadata`` itself
on the sample pages, so an upgrade of trafilatura that changes its steps shows here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from osint.extract import _metadata, _options, extract_article

from .conftest import PROJECT

PAGES = sorted((PROJECT / "samples").rglob("*.html"))

BYLINE_ONLY = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bridge opens</title></head>
<body><article><h1>Bridge opens</h1><p class="byline">By <span class="author">Dorj Bat</span></p>
<p>The new bridge over the river opened on Monday after two years of work, officials said, and
traffic between the two districts is expected to ease considerably in the coming weeks.</p>
<p>The ministry said the structure was built to carry heavy lorries as well as buses and cars,
and that a second crossing further north is planned for the years ahead.</p></article></body></html>"""


def _both(page: Path) -> tuple[object, object]:
    url = "https://news.example.org/" + page.name
    options = copy.copy(_options())
    options.url = options.source = url
    ours = _metadata(load_html(page.read_bytes()), options)
    theirs = extract_metadata(load_html(page.read_bytes()), url, options.date_params)
    return ours, theirs


def test_there_are_sample_pages() -> None:
    assert len(PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_kept_fields_are_trafilaturas(page: Path) -> None:
    ours, theirs = _both(page)
    for field in ("title", "url", "date", "sitename", "hostname", "filedate"):
        assert getattr(ours, field) == getattr(theirs, field), field
    # An author the page's metadata states is trafilatura's; none is searched for in the text.
    assert ours.author in (None, theirs.author)  # type: ignore[attr-defined]


def test_an_author_only_in_the_text_is_not_searched_for() -> None:
    """The one field that differs, and how: trafilatura finds the byline, the article has no author."""
    url = "https://news.example.org/bridge"
    theirs = extract_metadata(load_html(BYLINE_ONLY), url)
    assert theirs.author == "Dorj Bat"
    article = extract_article(BYLINE_ONLY, url, ZoneInfo("UTC"))
    assert article.author is None and article.title == "Bridge opens"
    assert article.text.startswith("The new bridge over the river opened on Monday")
