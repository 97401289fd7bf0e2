"""The extractive engine on small weeks written for these tests: what an analyst reads.

Headlines in the report's language, paragraphs that do not open on an unresolved
pronoun, one calendar line per event, and an executive summary that says what drew
most coverage and what changed against the weeks before, every line cited.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from osint.analyse import Evidence, ExtractiveEngine, assemble_report, verify_draft
from osint.analyse.extractive import future_dates
from osint.analyse.sentences import leans_back, quotable, split_sentences
from osint.analyse.verify import why_unsupported
from osint.classify import Classifier
from osint.cluster import build_stories
from osint.models import CountryProfile, Item, Report, Story
from osint.render import render
from osint.settings import PROJECT_ROOT, load_profile
from osint.stats import Stats
from osint.templating import md_escape
from osint.text import language_of

from .conftest import PROJECT

ZONE = ZoneInfo("Asia/Ulaanbaatar")
TEMPLATES = PROJECT_ROOT / "templates"


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


# --------------------------------------------------------------------------- computed statements

WEEK_BEFORE = [
    (
        "Agency",
        "en",
        "Mongolia and China open talks on a new border railway crossing",
        "Mongolia and China opened talks on a new railway crossing at the southern border on Monday. "
        "Negotiators discussed freight volumes, customs procedures and the gauge of the new line.",
        2,
    ),
    (
        "Agency",
        "en",
        "Cybersecurity agency reports attacks on ministry networks in Mongolia",
        "Mongolia's cybersecurity agency reported a wave of cyberattacks on ministry networks on Tuesday. "
        "Officials said the attacks were contained within hours and no data was lost.",
        3,
    ),
]
THIS_WEEK = [
    (
        "Agency",
        "en",
        "Mongolia and China agree on the border railway crossing timetable",
        "Mongolia and China agreed on a timetable for the new railway crossing at the southern border. "
        "Construction of the crossing will start in May and freight trains are to run by the end of 2027.",
        9,
    ),
    (
        "Daily B",
        "en",
        "Railway crossing deal with China sets construction for May",
        "Mongolia and China agreed on a timetable for the new railway crossing at the southern border. "
        "The customs terminal at the crossing will be built by a joint company of the two railways.",
        10,
    ),
    (
        "Wire C",
        "en",
        "Border railway with China: a timetable at last",
        "Mongolia and China agreed on a timetable for the new railway crossing at the southern border. "
        "Traders in the southern aimags welcomed the agreement on the crossing.",
        10,
    ),
    (
        "Daily B",
        "en",
        "Defence ministry of Mongolia orders new equipment for border guards",
        "Mongolia's defence ministry ordered new vehicles and radios for the border guard units on Wednesday. "
        "Deliveries of the border guard equipment are scheduled to start in June.",
        11,
    ),
]


def two_weeks(profile: CountryProfile) -> tuple[Evidence, list[Item]]:
    """This week's evidence (a railway story in three outlets, an equipment story) and last week's items."""
    items = make_items(profile, WEEK_BEFORE + THIS_WEEK)
    before, now = items[:2], items[2:]
    ev = evidence(profile, now, previous=before)
    rail = story_of("s-rail", now[:3], ["economy", "diplomacy"])
    ev.stories = [rail, story_of("s-guard", now[3:], ["defense"])]
    return ev, before


def test_the_summary_says_which_development_drew_most_outlets_citing_each(profile: CountryProfile) -> None:
    ev, _before = two_weeks(profile)
    draft = ExtractiveEngine().compose(ev)
    computed = [s for s in draft.executive if s.kind == "computed"]
    most = next(s for s in computed if "drew the most coverage" in s.text)
    assert most.text.startswith(
        "“Mongolia and China agree on the border railway crossing timetable” drew the most coverage"
    )
    assert "3 outlets in 3 items" in most.text
    assert {ev.items[i].source for i in most.item_ids} == {"Agency", "Daily B", "Wire C"}
    checked, stats = verify_draft(draft, ev)
    assert most in checked.executive and stats.dropped == 0


def test_the_summary_compares_buckets_and_counterparts_with_the_week_before(profile: CountryProfile) -> None:
    ev, before = two_weeks(profile)
    now_primary = Counter(i.classification.buckets[0] for i in ev.items.values() if i.classification)
    then_primary = Counter(i.classification.buckets[0] for i in before if i.classification)
    texts = [s.text for s in ExtractiveEngine().compose(ev).executive if s.kind == "computed"]
    buckets = next(
        t
        for t in texts
        if t.startswith("Against the period before (2 relevant items in the store), reporting")
    )
    for bucket, name in (("economy", "the economy"), ("defense", "defense"), ("security", "security")):
        n, m = now_primary[bucket], then_primary[bucket]
        if n or m:
            noun = "item" if n == 1 else "items"
            assert f"{name} ({n} {noun}, {m} the period before)" in buckets
    assert "fell on security (0 items, 1 the period before)" in buckets
    assert " (1 items," not in buckets and "1 outlets" not in " ".join(texts)
    china = next(t for t in texts if "more items named" in t)
    assert "China (3, from 1)" in china


def test_a_computed_statement_the_store_does_not_bear_out_is_dropped(profile: CountryProfile) -> None:
    ev, _before = two_weeks(profile)
    draft = ExtractiveEngine().compose(ev)
    most = next(s for s in draft.executive if s.kind == "computed")
    forged = most.model_copy(update={"text": most.text.replace("3 outlets", "5 outlets")})
    stray = most.model_copy(update={"item_ids": [*most.item_ids, max(ev.items)]})
    draft.executive = [forged, stray]
    checked, stats = verify_draft(draft, ev)
    assert checked.executive == [] and stats.dropped == 2
    assert set(stats.by_reason) == {
        "a computed statement the store does not bear out",
        "a computed statement citing items it was not computed from",
    }
    # Reworded by an editor, it is the editor's sentence: a fact, held to its sources' numbers.
    edited = most.reworded(most.text.replace("3 outlets", "5 outlets"))
    assert edited.kind == "fact"
    assert why_unsupported(edited, ev) == "numbers not in its sources: 3, 5"


def last_weeks_report(profile: CountryProfile, before: list[Item]) -> Report:
    """Last week's report as the archive holds it: composed, verified and numbered."""
    ev = Evidence(
        profile=profile,
        start=date(2026, 2, 26),
        end=date(2026, 3, 5),
        zone=ZONE,
        items={i.id: i for i in before},
        stories=[story_of("s-old-rail", before[:1], ["economy"]), story_of("s-old-cyber", before[1:])],
    )
    draft, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    draft.outlook.indicators = ["railway crossing: 1 items", "cyberattacks: 1 items"]
    return assemble_report(
        draft, ev, engine="extractive", generated_at=datetime(2026, 3, 6, tzinfo=UTC), feeds=[],
        stats=Stats(), considered=2,
    )  # fmt: skip


def test_a_continuing_story_says_what_it_follows_and_tells_what_is_new(profile: CountryProfile) -> None:
    ev, before = two_weeks(profile)
    ev.previous_report = last_weeks_report(profile, before)
    old_rail = ev.previous_report.developments[0]
    rail = ev.stories[0].model_copy(
        update={"status": "escalating", "previous": "x (2026-03-02)", "previous_ids": [before[0].id]}
    )
    ev.stories[0] = rail
    draft = ExtractiveEngine().compose(ev)
    going = next(s for s in draft.executive if s.text.startswith("Continuing from the weeks before"))
    assert f"(after last period's “{old_rail.title.text}”; 3 outlets now, 1 then, escalating)" in going.text
    assert (
        "New this period: “Defence ministry of Mongolia orders new equipment for border guards”."
        in going.text
    )
    # Its paragraph leaves out what last week's report already quoted.
    quoted_then = {s.text for s in old_rail.sentences}
    assert not quoted_then & {s.text for s in draft.developments[0].sentences}
    checked, stats = verify_draft(draft, ev)
    assert going in checked.executive, stats.reasons


def test_the_summary_says_where_last_weeks_indicators_went(profile: CountryProfile) -> None:
    ev, before = two_weeks(profile)
    ev.previous_report = last_weeks_report(profile, before)
    draft = ExtractiveEngine().compose(ev)
    moved = next(s for s in draft.executive if s.text.startswith("Of last period's indicators"))
    assert moved.text == (
        "Of last period's indicators, railway crossing rose to 3 items from 1 and cyberattacks "
        "(1 item) is no longer named."
    )
    assert all("railway crossing" in ev.items[i].text for i in moved.item_ids)
    checked, _stats = verify_draft(draft, ev)
    assert moved in checked.executive


def test_computed_statements_are_labelled_and_listed_in_every_format(profile: CountryProfile) -> None:
    ev, before = two_weeks(profile)
    ev.previous_report = last_weeks_report(profile, before)
    draft, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    report = assemble_report(
        draft, ev, engine="extractive", generated_at=datetime(2026, 3, 14, tzinfo=UTC), feeds=[],
        stats=Stats(), considered=len(ev.items),
    )  # fmt: skip
    computed = [s for s in report.executive_summary_sentences if s.kind == "computed"]
    assert len(computed) >= 3
    md = render(report, "md", TEMPLATES, ZONE).decode()
    for s in computed:
        assert f"- *Computed:* {md_escape(s.text)} \\[" in md
    html = lxml.html.fromstring(render(report, "html", TEMPLATES, ZONE).decode())
    items = html.xpath("//ul[@class='computed-list']/li/span[@class='computed']")
    assert len(items) == len(computed)
    assert all(i.xpath("string(span[@class='computed-label'])") == "Computed:" for i in items)
    data = Report.from_json(report.to_json())
    assert [s for s in data.executive_summary_sentences if s.kind == "computed"] == computed


def test_a_sentence_quoted_in_another_language_is_marked_with_it(profile: CountryProfile) -> None:
    ev = evidence(profile, make_items(profile, RU_FIRST[:1]))
    draft, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    quoted = draft.developments[0].sentences
    assert quoted and all(s.language == "Russian" for s in quoted)
    report = assemble_report(
        draft, ev, engine="extractive", generated_at=datetime(2026, 3, 14, tzinfo=UTC), feeds=[],
        stats=Stats(), considered=1,
    )  # fmt: skip
    md = render(report, "md", TEMPLATES, ZONE).decode()
    assert f"{md_escape(quoted[0].text)} (in Russian) \\[" in md
    assert report.developments[0].summary.startswith(f"{quoted[0].text} (in Russian) [")


def test_the_indicators_note_is_a_paragraph_above_the_list(profile: CountryProfile) -> None:
    ev, _before = two_weeks(profile)
    ev.previous = []
    draft, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    assert draft.outlook.indicators_note and draft.outlook.indicators_note.endswith("Named most this period:")
    assert not any("too few" in i for i in draft.outlook.indicators)
    draft.outlook.indicators = ["border guard: 2 items", "railway: 3 items"]  # what the list holds
    report = assemble_report(
        draft, ev, engine="extractive", generated_at=datetime(2026, 3, 14, tzinfo=UTC), feeds=[],
        stats=Stats(), considered=len(ev.items),
    )  # fmt: skip
    md = render(report, "md", TEMPLATES, ZONE).decode()
    note = md_escape(draft.outlook.indicators_note)
    assert f"\n{note}\n\n- {md_escape(draft.outlook.indicators[0])}\n" in md
    html = lxml.html.fromstring(render(report, "html", TEMPLATES, ZONE).decode())
    assert html.xpath("string(//p[@class='note'])") == draft.outlook.indicators_note


def test_a_section_quotes_another_language_only_where_it_has_nothing_in_english(
    profile: CountryProfile,
) -> None:
    rows = [
        (
            "Agency",
            "en",
            "Defence ministry of Mongolia orders new equipment for border guards",
            "Mongolia's defence ministry ordered new vehicles and radios for the border guard units on "
            "Wednesday. Deliveries of the border guard equipment are scheduled to start in June.",
            10,
        ),
        (
            "Регион",
            "ru",
            "Пограничники Монголии получат новую технику",
            "Министерство обороны Монголии заказало новые машины и радиостанции для пограничных частей. "
            "Поставки техники для пограничников начнутся в июне.",
            11,
        ),
    ]
    items = make_items(profile, rows)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-en", items[:1], ["defense"]), story_of("s-ru", items[1:], ["defense"])]
    draft = ExtractiveEngine().compose(ev)
    assert [s.language for s in draft.developments[1].sentences] == ["Russian", "Russian"]
    defense = next(b for b in draft.military if b.heading == "Defense")
    assert defense.sentences and all(s.language is None for s in defense.sentences)
    ev.stories = ev.stories[1:]  # the Russian report alone: quoted, and marked
    defense = next(b for b in ExtractiveEngine().compose(ev).military if b.heading == "Defense")
    assert defense.sentences and all(s.language == "Russian" for s in defense.sentences)


def test_sentences_split_before_kazakh_capitals() -> None:
    text = (
        "Науқан қазан айынан басталды. Қорғаныс министрлігінің мәліметінше, науқан желтоқсанға дейін өтеді."
    )
    assert len(split_sentences(text)) == 2


def test_a_month_named_without_its_year_most_of_a_year_ahead_is_the_one_just_past() -> None:
    end = date(2024, 11, 3)
    assert future_dates("Earlier in October, the spokesperson said the country would not apply.", end) == []
    assert future_dates("The summit will be held in December.", end) == [("December 2024", date(2024, 12, 1))]
    assert future_dates("The talks will resume next October.", end) == [("October 2025", date(2025, 10, 1))]


def test_flashpoints_do_not_say_one_risk_twice_in_other_words(profile: CountryProfile) -> None:
    rows = [
        (
            "Agency",
            "en",
            "Cyberattacks on Mongolia's government networks reach 90,000 a week",
            "Up to 90,000 cyberattacks a week are recorded against government networks in Mongolia, and "
            "most of them target the ministries' email systems.",
            9,
        ),
        (
            "Daily B",
            "en",
            "Government networks under constant cyberattack, agency says",
            "Up to 90,000 cyberattacks every week strike state servers in Mongolia, with ministries' email "
            "and government websites the main target, the cybersecurity agency said.",
            10,
        ),
    ]
    items = make_items(profile, rows)
    ev = evidence(profile, items)
    ev.stories = [story_of("s-a", items[:1]), story_of("s-b", items[1:])]
    assert len(ExtractiveEngine().compose(ev).outlook.flashpoints) == 1


def test_the_summary_says_when_nothing_continues_from_the_weeks_before(profile: CountryProfile) -> None:
    ev, _before = two_weeks(profile)
    draft, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    texts = [s.text for s in draft.executive if s.kind == "computed"]
    assert (
        "None of this period's developments continues a story of the 4 weeks before in the store "
        in " ".join(texts)
    )
    ev.previous = []
    texts = [s.text for s in ExtractiveEngine().compose(ev).executive if s.kind == "computed"]
    assert not any("continues" in t for t in texts)  # with nothing stored before, nothing to say


def test_a_story_continuing_from_older_weeks_names_what_it_follows(profile: CountryProfile) -> None:
    ev, before = two_weeks(profile)
    ev.stories[0] = ev.stories[0].model_copy(
        update={
            "status": "continuing",
            "previous": f"{before[0].title} (2026-03-02)",
            "previous_ids": [before[0].id],
        }
    )
    going = next(s for s in ExtractiveEngine().compose(ev).executive if s.text.startswith("Continuing"))
    assert f"(after “{before[0].title}” of 2026-03-02; 3 outlets now)" in going.text
    checked, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    assert going in checked.executive
