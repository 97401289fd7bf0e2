"""The labelled sample weeks under samples/: in step with their source, served like the demo, gated."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import yaml

from eval import sample_weeks
from osint.demo import DEMO_PERIOD, sample_week
from osint.errors import ConfigError
from osint.settings import PROJECT_ROOT

KAZAKHSTAN = PROJECT_ROOT / "samples" / "kazakhstan"


def test_labels_and_site_match_the_articles() -> None:
    articles = yaml.safe_load((KAZAKHSTAN / "articles.yaml").read_text(encoding="utf-8"))["articles"]
    labels = json.loads((KAZAKHSTAN / "labels.json").read_text(encoding="utf-8"))
    assert [a["id"] for a in articles] == [label["id"] for label in labels]
    for article, label in zip(articles, labels, strict=True):
        page = (KAZAKHSTAN / label["file"]).read_text(encoding="utf-8")
        assert label["title"] == article["title"]
        assert article["text"].split("\n\n")[0].strip()[:40] in page.replace("&#x27;", "'")
        assert label["syndicated_copy_of"] in {None, *(a["id"] for a in articles)}


def test_no_page_or_feed_points_at_a_real_domain() -> None:
    for path in (KAZAKHSTAN / "site").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.findall(r"https?://(?!www\.w3\.org/2005/Atom)", text), path
            assert "It was not published by the outlet" in text or path.suffix in {".xml", ".rss"}


def test_a_sample_week_names_its_period() -> None:
    assert sample_week("kazakhstan")[1] == (date(2024, 10, 28), date(2024, 11, 3))
    assert sample_week("demo")[1] == DEMO_PERIOD
    with pytest.raises(ConfigError, match="no sample corpus 'atlantis'"):
        sample_week("atlantis")


def test_sample_week_figures_hold_the_pinned_baseline() -> None:
    baseline = json.loads(sample_weeks.BASELINE.read_text())
    weeks = sample_weeks.sample_weeks()
    assert {w.name for w in weeks} == set(baseline)
    for week in weeks:
        figures, _ = sample_weeks.evaluate(week.examples, week.classifier)
        assert sample_weeks.compare(figures, baseline[week.name]) == [], week.name


def test_each_desk_keeps_the_shared_items_and_drops_the_other_countrys() -> None:
    (week,) = [w for w in sample_weeks.sample_weeks() if w.name == "kazakhstan"]
    examples, mongolia = week.cross["mongolia"]
    shared = [e for e in examples if e.relevant]
    assert {e.story for e in shared} >= {"state-visit-mongolia", "mongolia-trade-roadmap"}
    figures, _ = sample_weeks.relevance_only(examples, mongolia)
    assert figures["precision"] >= 0.95  # the Mongolia desk takes no Kazakhstan-only item
    own, _ = sample_weeks.relevance_only(week.examples, week.classifier)
    assert own["precision"] >= 0.95  # nor this desk a Mongolia-only one
