"""Week over week: a development followed before is continuing, or escalating when it grows."""

from __future__ import annotations

from datetime import UTC, datetime

from osint.cluster import build_stories
from osint.history import link_history
from osint.models import Item

KHAAN = (
    "The Khaan Quest multinational peacekeeping exercise brought troops from partner nations to the "
    "Five Hills training area near Ulaanbaatar, where the Mongolian Armed Forces and the U.S. "
    "Indo-Pacific Command run command post and field training for United Nations missions."
)
PIPELINE = (
    "Negotiators discussed the route of the Power of Siberia 2 gas pipeline across the eastern "
    "steppe, the transit fees Mongolia would earn and the timetable for the feasibility study."
)
DZUD = (
    "Herders in the western aimags reported heavy snow and extreme cold, and emergency officials "
    "warned that livestock losses from the dzud could rise as fodder reserves run low."
)


def item(i: int, title: str, text: str, day: int, source: str) -> Item:
    when = datetime(2026, 3, day, 8, tzinfo=UTC)
    return Item(id=i, url=f"https://x.example/{i}", source=source, title=title, text=text,
                published=when, first_seen=when)


def test_new_continuing_and_escalating() -> None:
    before = [
        item(1, "Khaan Quest planners meet in Ulaanbaatar", KHAAN, 2, "Montsame"),
        item(2, "Pipeline talks resume on Power of Siberia 2", PIPELINE, 3, "Montsame"),
    ]
    now = [
        item(11, "Khaan Quest exercise preparations continue", KHAAN + " Planners met again.", 10, "Montsame"),
        item(12, "Power of Siberia 2 pipeline talks move ahead", PIPELINE + " Talks moved on.", 10, "UB Post"),
        item(13, "Pipeline route across the steppe debated", PIPELINE + " A new route was shown.", 10, "Wire"),
        item(14, "Dzud threatens herds in the west", DZUD, 11, "Montsame"),
    ]
    stories = link_history(build_stories(now), {i.id: i for i in now}, before)
    by_item = {i: s for s in stories for i in s.item_ids}
    assert by_item[11].status == "continuing"
    assert by_item[11].previous == "Khaan Quest planners meet in Ulaanbaatar (2026-03-02)"
    assert by_item[12].status == "escalating"  # more outlets than the week before
    assert by_item[14].status == "new" and by_item[14].previous is None


def test_without_history_everything_is_new() -> None:
    now = [item(1, "Dzud threatens herds", DZUD, 10, "Montsame")]
    (story,) = link_history(build_stories(now), {1: now[0]}, [])
    assert story.status == "new"
