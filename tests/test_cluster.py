"""Story grouping: words decide within a language, shared names bridge languages."""

from __future__ import annotations

from datetime import UTC, datetime

from osint.cluster import build_stories
from osint.models import Item


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


def _groups(items: list[Item]) -> list[list[int]]:
    """Stories over ``items`` plus unrelated ones, so that names have a document frequency."""
    others = [
        _item(
            100, 2, "en", "Herders prepare for winter", "Herders in Arkhangai are stocking hay and fodder."
        ),
        _item(101, 3, "en", "Copper output rises", "Oyu Tolgoi produced more copper concentrate in August."),
        _item(102, 4, "en", "New school opens", "A new school opened in the Bayanzurkh district this week."),
    ]
    stories = build_stories(items + others)
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
