"""Story grouping: words decide within a language, shared names bridge languages."""

from __future__ import annotations

from datetime import UTC, datetime

from osint.cluster import build_stories
from osint.models import CountryProfile, Item


def _item(n: int, day: int, language: str, title: str, text: str) -> Item:
    when = datetime(2024, 9, day, 8, tzinfo=UTC)
    return Item(
        id=n,
        url=f"https://news.example/{n}",
        source=f"Outlet {n}",
        title=title,
        text=text,
        published=when,
        first_seen=when,
        language=language,
    )


def _groups(items: list[Item], profile: CountryProfile | None = None) -> list[list[int]]:
    """Stories over ``items`` plus unrelated ones, so that names have a document frequency."""
    others = [
        _item(
            100, 2, "en", "Herders prepare for winter", "Herders in Arkhangai are stocking hay and fodder."
        ),
        _item(101, 3, "en", "Copper output rises", "Oyu Tolgoi produced more copper concentrate in August."),
        _item(102, 4, "en", "New school opens", "A new school opened in the Bayanzurkh district this week."),
    ]
    stories = build_stories(items + others, profile)
    return sorted(sorted(s.item_ids) for s in stories if not set(s.item_ids) & {100, 101, 102})


def test_shared_country_names_do_not_join_different_developments() -> None:
    items = [
        _item(
            1,
            2,
            "en",
            "Japan Airlines hit by cyberattack, flights delayed",
            "TOKYO (Kyodo) - Japan Airlines said a cyberattack on its baggage system delayed domestic "
            "flights from Haneda on Thursday. Police are investigating.",
        ),
        _item(
            2,
            3,
            "en",
            "Cabinet approves record defense budget",
            "TOKYO (Kyodo) - The Japanese cabinet approved a record defense budget on Friday, with more "
            "money for missiles and ships as the region grows more dangerous.",
        ),
    ]
    assert _groups(items) == [[1], [2]]


def test_shared_names_and_figures_join_one_development_across_languages() -> None:
    items = [
        _item(
            1,
            3,
            "en",
            "Putin arrives in Ulaanbaatar for talks with Khurelsukh",
            "Russian President Vladimir Putin arrived in Ulaanbaatar on Monday for talks with President "
            "Khurelsukh on the Power of Siberia 2 pipeline and the 85th anniversary of Khalkhin Gol.",
        ),
        _item(
            2,
            3,
            "ru",
            "Путин прибыл в Улан-Батор на переговоры с Хурэлсухом",
            "Президент России Владимир Путин прибыл с визитом в Монголию, где обсудит с президентом "
            "Хурэлсухом газопровод и 85-летие победы на Халхин-Голе.",
        ),
        _item(
            3,
            4,
            "en",
            "Coal exports rise in August",
            "Coal exports rose by a tenth in August, the customs office said, as more trucks crossed "
            "at Gashuunsukhait.",
        ),
    ]
    assert _groups(items) == [[1, 2], [3]]


def _profiled(items: list[Item], country: str = "mongolia") -> list[list[int]]:
    """As _groups, with a country profile's concepts, topics and kinds of event."""
    from pathlib import Path

    from osint.settings import load_profile

    return _groups(items, load_profile(Path(__file__).parent.parent / "countries" / f"{country}.yaml"))


def test_a_chinese_report_joins_the_story_on_who_and_where() -> None:
    items = [
        _item(
            1,
            3,
            "en",
            "Putin welcomed on Sukhbaatar Square at start of state visit",
            "Russian President Vladimir Putin was welcomed by President Khurelsukh on Sukhbaatar Square "
            "in Ulaanbaatar on Tuesday at the start of a state visit.",
        ),
        _item(
            2,
            3,
            "zh",
            "普京抵达乌兰巴托进行国事访问",
            "普京周二抵达乌兰巴托，呼日勒苏赫总统在苏赫巴托广场举行欢迎仪式。",
        ),
    ]
    assert _profiled(items) == [[1, 2]]


def test_a_visit_and_the_agreement_signed_during_it_are_two_stories() -> None:
    items = [
        _item(
            1,
            3,
            "en",
            "Putin holds talks with Khurelsukh in Ulaanbaatar",
            "Russian President Vladimir Putin held talks with President Khurelsukh in Ulaanbaatar on "
            "Tuesday about the anniversary of the Khalkhin Gol battle and relations between the neighbours.",
        ),
        _item(
            2,
            3,
            "en",
            "Agreements on aviation fuel and power plant signed in Ulaanbaatar",
            "Deals on aviation fuel supply and on the design of a power plant were signed in "
            "Ulaanbaatar on Tuesday in the presence of Putin and Khurelsukh.",
        ),
    ]
    assert _profiled(items) == [[1], [2]]


def test_one_shared_place_does_not_join_reports_across_languages() -> None:
    items = [
        _item(
            1,
            3,
            "en",
            "Heavy snowfall closes roads in Sukhbaatar province",
            "Heavy snowfall closed roads in Sukhbaatar province on Tuesday, the emergency agency said.",
        ),
        _item(
            2,
            4,
            "mn",
            "Сүхбаатар аймагт хээрийн түймэр унтарлаа",
            "Сүхбаатар аймагт гарсан хээрийн түймрийг бүрэн унтраажээ гэж онцгой байдлын газар мэдээллээ.",
        ),
    ]
    assert _profiled(items) == [[1], [2]]


def _visit() -> list[Item]:
    """A state visit told by three outlets in two languages."""
    return [
        _item(
            1,
            3,
            "en",
            "French President arrives in Ulaanbaatar on a state visit",
            "Emmanuel Macron arrived in Ulaanbaatar on Tuesday, the first state visit by a French president. "
            "President Khurelsukh welcomed him at the airport.",
        ),
        _item(
            2,
            3,
            "en",
            "Macron and Khurelsukh hold talks on critical minerals",
            "Emmanuel Macron and President Khurelsukh held talks in Ulaanbaatar on critical minerals, "
            "uranium and renewable energy.",
        ),
        _item(
            3,
            3,
            "ru",
            "Макрон прибыл в Улан-Батор с государственным визитом",
            "Эммануэль Макрон прибыл в Улан-Батор, где его встретил президент Хурэлсух.",
        ),
    ]


def test_a_report_from_another_angle_joins_the_story_it_shares_names_with() -> None:
    # Alone, the monastery piece is close to no single report of the visit (other words, no
    # kind of event in its headline), but it carries the visit's own names: Macron, Emmanuel.
    piece = _item(
        4,
        4,
        "en",
        "Crowds greet Emmanuel Macron at Gandan monastery",
        "Monks and residents crowded the courtyard of Gandan monastery as Macron lit butter lamps "
        "before flying home.",
    )
    assert _profiled([*_visit(), piece]) == [[1, 2, 3, 4]]


def test_the_reaction_to_a_visit_and_a_fire_stay_apart_from_the_story() -> None:
    reaction = _item(
        4,
        4,
        "en",
        "Beijing responds to Emmanuel Macron's remarks in Ulaanbaatar",
        "China's foreign ministry answered the remarks Macron made in Ulaanbaatar about rare earths, "
        "saying supply chains should stay open.",
    )
    fire = _item(
        5,
        4,
        "en",
        "Steppe fire near the airport put out as Macron leaves",
        "A steppe fire near the airport was put out on Wednesday as Emmanuel Macron left, the emergency "
        "agency said.",
    )
    assert _profiled([*_visit(), reaction, fire]) == [[1, 2, 3], [4], [5]]


def test_a_full_name_is_one_person_across_kazakh_and_russian() -> None:
    # Given names before a known surname are part of it: two other developments of the
    # President's week share one person, not three names.
    items = [
        _item(
            1,
            3,
            "kk",
            "Тоқаев Ақордада Сыртқы істер министрін қабылдады",
            "Мемлекет басшысы Қасым-Жомарт Тоқаев Ақордада Сыртқы істер министрін қабылдады.",
        ),
        _item(
            2,
            3,
            "ru",
            "Токаев подписал закон о развитии туризма",
            "Президент Касым-Жомарт Токаев подписал закон о гостиницах и кемпингах у озёр.",
        ),
    ]
    assert _profiled(items, "kazakhstan") == [[1], [2]]


def test_kazakh_letters_meet_the_latin_and_russian_spelling_of_a_name() -> None:
    items = [
        _item(
            1,
            3,
            "en",
            "Trial of former minister Bishimbayev hears forensic experts",
            "The jury trial of former minister Kuandyk Bishimbayev heard forensic experts in Astana.",
        ),
        _item(
            2,
            4,
            "kk",
            "Бишімбаев ісі бойынша сот отырысы жалғасты",
            "Бұрынғы министр Қуандық Бишімбаевтың ісі бойынша Астанада сот отырысы жалғасты.",
        ),
    ]
    assert _profiled(items, "kazakhstan") == [[1, 2]]
