"""Ranking on constructed stories: outlets, official sources, severity, national weight."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from osint.cluster import NOTICE_CEILING, abroad_matcher, concept_matcher, score_story
from osint.models import Classification, Item, Reliability
from osint.settings import load_profile

PROFILE = load_profile(Path(__file__).parent.parent / "countries" / "mongolia.yaml")
CONCEPTS = concept_matcher(PROFILE)
ABROAD = abroad_matcher(PROFILE)


def _item(
    n: int,
    title: str,
    bucket: str,
    *,
    source: str | None = None,
    relevance: float = 0.7,
    reliability: Reliability = "B",
    language: str = "en",
) -> Item:
    when = datetime(2024, 9, 4, 8, tzinfo=UTC)
    return Item(
        id=n,
        url=f"https://news.example/{n}",
        source=source or f"Outlet {n}",
        title=title,
        text=title + ".",
        published=when,
        first_seen=when,
        language=language,
        reliability=reliability,
        classification=Classification(relevant=True, relevance=relevance, buckets=[bucket]),  # type: ignore[list-item]
    )


def _score(members: list[Item], copies: dict[int, int] | None = None) -> float:
    return score_story(members, copies or {}, CONCEPTS, ABROAD)[0]


def _notice(n: int, title: str = "Snow warning for the northern provinces") -> Item:
    # The strongest notice there is: one report, graded A, fully relevant, about security.
    return _item(n, title, "security", relevance=1.0, reliability="A")


def test_a_story_of_three_outlets_outranks_every_single_notice() -> None:
    budget = [
        _item(1, "Cabinet discusses next year's spending plans", "economy", relevance=0.5, reliability="C"),
        _item(2, "Government weighs spending plans for next year", "economy", relevance=0.5, reliability="C"),
        _item(3, "Spending plans for next year debated", "economy", relevance=0.5, reliability="C"),
    ]
    assert _score(budget) > _score([_notice(9)])
    assert score_story(budget, {}, CONCEPTS, ABROAD)[1]["major"] == 1.0


def test_a_decision_of_national_weight_outranks_a_notice_even_from_one_outlet() -> None:
    for title in (
        "Parliament ratifies agreement on oil refinery loan",
        "Cabinet approves the draft state budget",
        "Parliament adopts new law on cyber security",
    ):
        decision = [_item(1, title, "economy", relevance=0.5, reliability="C")]
        parts = score_story(decision, {}, CONCEPTS, ABROAD)[1]
        assert parts["national_weight"] == 1.0, title
        assert _score(decision) > _score([_notice(9)]), title


def test_another_country_s_law_or_budget_is_no_decision_of_national_weight() -> None:
    for title in (
        "US defense law includes a provision on the region",
        "Japan's cabinet approves record budget",
    ):
        parts = score_story([_item(1, title, "defense")], {}, CONCEPTS, ABROAD)[1]
        assert parts["national_weight"] == 0.0, title
    # An agreement with another country is the country's own decision too.
    signed = [_item(1, "Mongolia and China sign railway agreement", "economy")]
    assert score_story(signed, {}, CONCEPTS, ABROAD)[1]["national_weight"] == 1.0


def test_without_a_profile_no_headline_has_national_weight() -> None:
    decision = [_item(1, "Cabinet approves the draft state budget", "economy")]
    assert score_story(decision, {})[1]["national_weight"] == 0.0


def test_the_ceiling_is_what_the_strongest_notice_scores() -> None:
    assert _score([_notice(9)]) == round(NOTICE_CEILING, 4)


def test_among_notices_outlets_sources_and_severity_order_the_week() -> None:
    two_outlets = [
        _item(1, "Road closed by landslide", "economy"),
        _item(2, "Landslide shuts road", "economy"),
    ]
    one_outlet = [_item(3, "Road closed by landslide", "economy")]
    assert _score(two_outlets) > _score(one_outlet)
    official = [_item(4, "Road closed by landslide", "economy", reliability="A")]
    assert _score(official) > _score(one_outlet)
    severe = [_item(5, "Road closed by landslide", "security")]
    assert _score(severe) > _score(one_outlet)


def test_copies_add_less_than_independent_outlets_and_one_outlet_counts_once() -> None:
    original = _item(1, "Herders receive fodder aid", "economy")
    copy = _item(2, "Herders receive fodder aid", "economy")
    independent = _item(3, "Fodder aid reaches herders", "economy")
    same_outlet = _item(4, "Fodder aid reaches herders", "economy", source="Outlet 1")
    assert _score([original, independent]) > _score([original, copy], {2: 1})
    assert _score([original, copy], {2: 1}) > _score([original])
    assert _score([original, same_outlet]) == _score([original])


def test_a_story_told_in_two_languages_reaches_further() -> None:
    english = _item(1, "Herders receive fodder aid", "economy")
    russian = _item(2, "Скотоводы получили корма", "economy", language="ru")
    english_too = _item(3, "Fodder aid reaches herders", "economy")
    assert _score([english, russian]) > _score([english, english_too])
