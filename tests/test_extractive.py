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
from osint.analyse.sentences import leans_back, quotable
from osint.classify import Classifier
from osint.cluster import build_stories
from osint.models import CountryProfile, Item, Story
from osint.settings import load_profile
from osint.text import language_of

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


def story_of(sid: str, items: list[Item], buckets: list[str] | None = None) -> Story:
    """A story made by hand of ``items`` (the first leads), so a test does not hang on clustering."""
    return Story(
        id=sid,
        item_ids=[i.id for i in items],
        canonical_id=items[0].id,
        outlets=sorted({i.source for i in items}),
        first_seen=min(i.published for i in items),
        last_seen=max(i.published for i in items),
        buckets=buckets or ["security"],  # type: ignore[list-item]
    )


LEANING = [
    (
        "Daily A",
        "en",
        "Mongolia's cabinet adopts a cybersecurity plan after attacks on state networks",
        "Mongolia's cabinet adopted a cybersecurity plan on Tuesday after a series of cyberattacks on state "
        "networks. The plan, which runs until 2028, sets out three cybersecurity tasks: protecting state "
        "networks, training specialists and reporting cyberattacks within a day. It was drafted by the "
        "cybersecurity agency after the attacks on state networks in January.",
        9,
    ),
]


def test_a_sentence_leaning_back_is_quoted_only_right_after_the_one_it_leans_on(
    profile: CountryProfile,
) -> None:
    items = make_items(profile, LEANING)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-plan", items)]
    texts = [s.text for s in ExtractiveEngine().compose(ev).developments[0].sentences]
    first, plan, drafted = (q.text for q in quotable(items[0].text))
    # "The plan, which runs…" is the most central sentence, but it leads only from behind its antecedent.
    assert texts[0] == first
    for dependent, antecedent in ((plan, first), (drafted, plan)):
        if dependent in texts:
            assert texts.index(dependent) == texts.index(antecedent) + 1


def test_a_sentence_leaning_back_never_leads_a_one_sentence_paragraph(profile: CountryProfile) -> None:
    items = make_items(profile, LEANING)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-plan", items)]
    draft = ExtractiveEngine().compose(ev)
    for sentence in [
        *draft.executive,
        *draft.outlook.flashpoints,
        *(e.sentence for e in draft.outlook.calendar),
    ]:
        assert not leans_back(sentence.text), sentence.text


@pytest.mark.parametrize(
    ("sentence", "back"),
    [
        ("She stressed that the country pursues a balanced policy.", True),
        ("The strategy, which covers 2022 to 2027, has four main directions.", True),
        ("Much of the increase is attributed to demand for copper.", True),
        ("The move drew criticism from the opposition.", True),
        ("The latter signed the agreement on Friday.", True),
        ("Both sides agreed to expand trade next year.", True),
        ("Also on 6 March, the ministry issued a statement.", True),
        ("Since then, the policy has prevailed in relations with both neighbours.", True),
        ("The conferences form part of the implementation of the strategy.", True),
        ("The opening of the embassy follows the entry into force of the agreement.", False),
        ("The political standoff between parliament and the President continues.", False),
        ("The General Staff is preparing the exercise for June.", False),
        ("The government approved the draft budget on Monday.", False),
        ("This week the ministry announced new border rules.", False),
        ("Exports grew by half in the first two months of the year.", False),
    ],
)
def test_leans_back(sentence: str, back: bool) -> None:
    assert leans_back(sentence) is back


MIXED_LANGUAGES = [
    (
        "Regional Wire (English)",
        "en",
        "Border checkpoint to become the main gateway for trade with the union",
        "The northern border checkpoint will become the main gateway for trade under the free trade agreement. "
        "Freight volumes through the checkpoint are expected to double within two years of the agreement.",
        9,
    ),
    (
        "Regional Wire (Russian)",
        "en",  # tagged English by its feed, written in Russian
        "Northern checkpoint gateway for trade",
        "Пограничный пункт станет главными воротами для торговли по соглашению о свободной торговле с союзом. "
        "Объём грузов через пункт пропуска должен удвоиться в течение двух лет после вступления соглашения.",
        10,
    ),
]


def test_a_sentence_in_another_language_is_not_quoted_when_the_story_has_one_in_english(
    profile: CountryProfile,
) -> None:
    items = make_items(profile, MIXED_LANGUAGES)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-gate", [items[1], items[0]], ["economy"])]  # the Russian text leads
    draft = ExtractiveEngine().compose(ev)
    quoted = [s.text for s in draft.developments[0].sentences]
    assert quoted and all(language_of(None, t) == "latin" for t in quoted)


SAME_EXERCISE = [
    (
        "Agency",
        "en",
        "Planning meeting for the Steppe Shield exercise opens",
        "A planning meeting for the Steppe Shield multinational exercise opened in Ulaanbaatar on Monday. "
        "The Steppe Shield exercise will be held in June with contingents from twelve countries.",
        9,
    ),
    (
        "Daily B",
        "en",
        "Defence minister visits the General Staff",
        "The defence minister visited the General Staff of the Armed Forces on Tuesday to discuss pay. "
        "Staff officers are also preparing for Steppe Shield, the multinational exercise scheduled for June.",
        10,
    ),
    (
        "Daily C",
        "en",
        "Two summits on the calendar for the spring",
        "Ministers will meet for the water summit on April 14, 2026 and for the energy summit on April 20, 2026 "
        "in the capital.",
        11,
    ),
]


def test_the_calendar_lists_one_line_per_event_and_per_sentence(profile: CountryProfile) -> None:
    items = make_items(profile, SAME_EXERCISE)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-plan", items[:1], ["defense"]), story_of("s-visit", items[1:2], ["defense"])]
    ev.stories.append(story_of("s-summits", items[2:], ["diplomacy"]))
    calendar = ExtractiveEngine().compose(ev).outlook.calendar
    june = [e for e in calendar if e.when == "June 2026"]
    assert len(june) == 1  # two outlets, two stories, one exercise
    texts = [e.sentence.text for e in calendar]
    assert len(texts) == len(set(texts))  # two dates in one sentence: still one line
    summits = [e for e in calendar if "summit" in e.sentence.text]
    assert len(summits) == 1 and summits[0].when == "April 14, 2026 and April 20, 2026"


def test_no_sentence_twice_in_a_section(profile: CountryProfile) -> None:
    shared = (
        "The ministry of defence confirmed that the border guard units will receive new equipment this year."
    )
    rows = [
        ("Agency", "en", "Border guards to receive new equipment", f"{shared} Deliveries start in May.", 9),
        (
            "Daily B",
            "en",
            "Defence budget debate continues in parliament",
            f"{shared} Lawmakers debate cost.",
            10,
        ),
    ]
    items = make_items(profile, rows)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-a", items[:1], ["defense"]), story_of("s-b", items[1:], ["defense"])]
    draft = ExtractiveEngine().compose(ev)
    for section in (
        [s.text for d in draft.developments for s in d.sentences],
        [s.text for b in draft.military for s in b.sentences],
        [s.text for b in draft.geopolitical for s in b.sentences],
        [s.text for s in draft.outlook.flashpoints],
    ):
        assert len(section) == len(set(section))
