"""Relevance and buckets on the hard cases, in several languages, with the evidence shown.

The texts in ``fixtures/classify_hard_cases.jsonl`` were written for these tests: a railway
or mine deal with China (economy), an invitation to an exercise (diplomacy, then defense),
a defence budget (defense), cyber incidents, disasters and border incidents (security),
"social / energy / food security" (economy, not security), protests, votes and elections
(political stability: security), visits (diplomacy), and items that are not about the
country although a Mongolian outlet or the word "Mongolia" is involved.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from osint.classify import Classifier
from osint.settings import load_profile

from .conftest import PROJECT, fixture_bytes, invoke

CASES: list[dict[str, Any]] = [
    json.loads(line)
    for line in fixture_bytes("classify_hard_cases.jsonl").decode("utf-8").splitlines()
    if line
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_profile(PROJECT / "countries" / "mongolia.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hard_case_gets_its_primary_bucket(classifier: Classifier, case: dict[str, Any]) -> None:
    result = classifier.classify(case["title"], case["text"], case.get("source_country"))
    assert result.buckets[:1] == [case["want"]], result.evidence["buckets"]
    if "second" in case:
        assert result.buckets[1:2] == [case["second"]], result.evidence["buckets"]
    if "relevant" in case:
        assert result.relevant is case["relevant"], result.evidence["relevance"]


def test_named_security_phrases_are_not_security(classifier: Classifier) -> None:
    result = classifier.classify("Plan to ensure energy security and food security", "Prices rose.")
    evidence: Any = result.evidence["buckets"]
    assert "security" not in result.buckets
    assert set(evidence["security"]["negative"]) == {"energy security", "food security"}


def test_a_domestic_outlet_abroad_needs_evidence_of_its_own(classifier: Classifier) -> None:
    text = "Rescuers evacuated thousands of people after the river burst its banks."
    at_home = classifier.classify("Floods force evacuations in the north", text, "MN")
    abroad = classifier.classify("Floods force evacuations in Kazakhstan", text, "MN")
    abroad_named = classifier.classify("Floods in Kazakhstan reach Mongolia's Bayan-Ulgii", text, "MN")
    assert at_home.relevant and not abroad.relevant and abroad_named.relevant
    evidence: Any = abroad.evidence["relevance"]
    assert evidence["title_names_abroad"] == ["Kazakhstan*"]


def test_one_word_counts_once_even_when_two_terms_match_it(classifier: Classifier) -> None:
    # "учения" is listed itself and is also reached by the prefix "учени*".
    result = classifier.classify("Учения", "")
    evidence: Any = result.evidence["buckets"]
    assert len(evidence["defense"]["terms"]) == 1


def test_a_stray_context_word_is_no_bucket(classifier: Classifier) -> None:
    guess = classifier.classify("A day in the city", "The visit ended in the evening.")
    nothing = classifier.classify("Caring for pet gerbils", "Give them a wheel and fresh water.")
    assert guess.buckets == []
    assert guess.evidence["buckets"]["basis"] == "weak signal only"  # type: ignore[index]
    assert nothing.buckets == []
    assert nothing.evidence["buckets"]["basis"] == "no bucket term"  # type: ignore[index]


def test_a_domestic_outlet_makes_an_item_eligible_not_relevant(classifier: Classifier) -> None:
    """The source prior needs a bucket on the item's own evidence (issue 11)."""
    concert = classifier.classify(
        "Jazz quartet closes the festival",
        "The pianist led a long improvisation and the concert ran past midnight, while police "
        "closed the street outside the club.",
        "MN",
    )
    notice = classifier.classify(
        "Cabinet approves plan to stock fodder for the winter",
        "Provincial governors must report hay reserves, and the emergency agency will monitor pastures.",
        "MN",
    )
    assert not concert.relevant and concert.buckets == []
    assert concert.evidence["buckets"]["basis"] == "outside the four buckets"  # type: ignore[index]
    assert concert.evidence["relevance"]["needs_bucket"] == "no bucket: not relevant"  # type: ignore[index]
    assert notice.relevant and notice.buckets[:1] == ["security"]


def test_the_headline_frames_a_visit_whose_talks_were_about_trade(classifier: Classifier) -> None:
    body = "On his official visit the two presidents held talks on critical minerals and uranium mining."
    visit = classifier.classify("French President welcomed with ceremony in Ulaanbaatar", body, "MN")
    deal = classifier.classify("Uranium mining deal signed", body, "MN")
    assert visit.buckets[:1] == ["diplomacy"], visit.evidence["buckets"]
    assert deal.buckets[:1] == ["economy"], deal.evidence["buckets"]


def test_title_outweighs_the_same_term_in_the_body(classifier: Classifier) -> None:
    in_title = classifier.classify("Protest in the capital", "People gathered.")
    in_body = classifier.classify("People gathered", "Filler. " * 80 + "There was a protest.")
    score: Any = lambda c: c.evidence["buckets"]["security"]["score"]  # noqa: E731
    assert score(in_title) > score(in_body) > 0


def test_cli_classify_prints_the_spec_shape_with_evidence(tmp_path: Any) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text(
        json.dumps({"title": "Mongolia and China sign cross-border railway agreement", "text": "Coal."})
        + "\n"
        + json.dumps({"title": "Ерөнхийлөгч Япон Улсад төрийн айлчлал хийнэ", "text": ""}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    code, out = invoke("classify", str(lines), "--feeds", str(PROJECT / "feeds.yaml"))
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert set(first) == {"relevant", "relevance", "buckets", "evidence"}
    assert first["relevant"] is True and 0 < first["relevance"] <= 1
    assert first["buckets"][0] == "economy"
    assert "cross-border railway" in first["evidence"]["buckets"]["economy"]["in_title"]
    assert first["evidence"]["buckets"]["primary"] == "economy"
    assert second["buckets"][0] == "diplomacy"


def test_an_own_place_in_the_lead_keeps_a_story_at_home(classifier: Classifier) -> None:
    # A neighbour in the headline, but the lead puts the event in the country's own capital.
    text = "Police in Ulaanbaatar detained two activists who picketed the embassy with anti-war posters."
    result = classifier.classify("Activists detained after picket outside the Russian embassy", text, "MN")
    assert result.relevant and result.buckets[:1] == ["security"]
    assert result.evidence["relevance"]["domestic_source_prior"] == 3.0  # type: ignore[index]
