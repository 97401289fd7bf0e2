"""The extractive engine on small weeks written for these tests: what an analyst reads.

Headlines in the report's language, paragraphs that do not open on an unresolved
pronoun, one calendar line per event, and an executive summary that says what drew
most coverage and what changed against the weeks before, every line cited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from osint.analyse import Evidence, ExtractiveEngine, verify_draft
from osint.classify import Classifier
from osint.cluster import build_stories
from osint.models import CountryProfile, Item, Story
from osint.settings import load_profile

from .conftest import PROJECT

ZONE = ZoneInfo("Asia/Ulaanbaatar")


@pytest.fixture(scope="module")
def profile() -> CountryProfile:
    return load_profile(PROJECT / "countries" / "mongolia.yaml")


def make_items(profile: CountryProfile, rows: list[tuple[str, str, str, str, int]]) -> list[Item]:
    """(source, language, title, text, day of March 2026) -> classified items."""
    clf = Classifier(profile)
    out = []
    for n, (source, lang, title, text, day) in enumerate(rows, start=1):
        when = datetime(2026, 3, day, 4, tzinfo=UTC)
        out.append(
            Item(
                id=n,
                url=f"https://test.example/{n}",
                source=source,
                title=title,
                text=text,
                published=when,
                first_seen=when,
                language=lang,
                source_country="MN",
                reliability="B",
                classification=clf.classify(title, text, "MN"),
            )
        )
    return out


def evidence(profile: CountryProfile, items: list[Item], previous: list[Item] | None = None) -> Evidence:
    relevant = [i for i in items if i.classification and i.classification.relevant]
    return Evidence(
        profile=profile,
        start=date(2026, 3, 6),
        end=date(2026, 3, 13),
        zone=ZONE,
        items={i.id: i for i in relevant},
        stories=build_stories(relevant),
        previous=previous or [],
    )


RU_FIRST = [
    (
        "Интерфакс",
        "ru",
        "Президент Франции прибыл в Улан-Батор с государственным визитом",
        "Президент Франции Эмманюэль Макрон прибыл в Улан-Батор с государственным визитом. Макрон и "
        "президент Монголии Хурэлсух проведут переговоры о сотрудничестве в добыче урана и редкоземельных "
        "металлов. Визит Макрона в Монголию продлится два дня.",
        7,
    ),
    (
        "MNB (English)",
        "en",
        "President Khurelsukh holds talks with French President Macron",
        "President Khurelsukh held talks with French President Emmanuel Macron in Ulaanbaatar on his state "
        "visit. The two presidents discussed cooperation in uranium mining and rare earth metals. Macron "
        "is the second French head of state to visit Mongolia.",
        8,
    ),
]


def test_a_story_led_by_a_russian_item_is_headed_by_its_english_member(profile: CountryProfile) -> None:
    items = make_items(profile, RU_FIRST)
    ev = evidence(profile, items)
    # One story, led (earliest) by the Russian report, whatever the clustering made of it.
    ev.stories = [
        Story(
            id="s-visit",
            item_ids=[1, 2],
            canonical_id=1,
            outlets=[i.source for i in items],
            first_seen=items[0].published,
            last_seen=items[1].published,
            buckets=["diplomacy"],
        )
    ]
    draft = ExtractiveEngine().compose(ev)
    dev = draft.developments[0]
    assert dev.title.text == "President Khurelsukh holds talks with French President Macron"
    assert dev.title_language is None


def test_a_story_with_no_english_member_is_marked_with_its_language(profile: CountryProfile) -> None:
    ev = evidence(profile, make_items(profile, RU_FIRST[:1]))
    dev = ExtractiveEngine().compose(ev).developments[0]
    assert dev.title.text.startswith("Президент Франции")
    assert dev.title_language == "Russian"
    checked, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    assert checked.developments and checked.developments[0].title_language == "Russian"
