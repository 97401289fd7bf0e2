"""Week over week: a development followed before is continuing, or escalating when it grows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from osint.cluster import build_stories
from osint.history import link_history
from osint.jobs.context import RunContext
from osint.jobs.report import period_evidence, previous_report
from osint.models import Item
from osint.settings import Settings

from .conftest import DemoRun

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
    return Item(
        id=i,
        url=f"https://x.example/{i}",
        source=source,
        title=title,
        text=text,
        published=when,
        first_seen=when,
    )


def test_new_continuing_and_escalating() -> None:
    before = [
        item(1, "Khaan Quest planners meet in Ulaanbaatar", KHAAN, 2, "Montsame"),
        item(2, "Pipeline talks resume on Power of Siberia 2", PIPELINE, 3, "Montsame"),
    ]
    now = [
        item(
            11, "Khaan Quest exercise preparations continue", KHAAN + " Planners met again.", 10, "Montsame"
        ),
        item(
            12, "Power of Siberia 2 pipeline talks move ahead", PIPELINE + " Talks moved on.", 10, "UB Post"
        ),
        item(
            13, "Pipeline route across the steppe debated", PIPELINE + " A new route was shown.", 10, "Wire"
        ),
        item(14, "Dzud threatens herds in the west", DZUD, 11, "Montsame"),
    ]
    stories = link_history(build_stories(now), {i.id: i for i in now}, before)
    by_item = {i: s for s in stories for i in s.item_ids}
    assert by_item[11].status == "continuing"
    assert by_item[11].previous == "Khaan Quest planners meet in Ulaanbaatar (2026-03-02)"
    assert by_item[11].previous_ids == [1]  # what last week's report tells of it is found by these
    assert by_item[12].status == "escalating"  # more outlets than the week before
    assert by_item[14].status == "new" and by_item[14].previous is None


def test_without_history_everything_is_new() -> None:
    now = [item(1, "Dzud threatens herds", DZUD, 10, "Montsame")]
    (story,) = link_history(build_stories(now), {1: now[0]}, [])
    assert story.status == "new"


def test_last_weeks_report_is_read_from_the_archive_or_rebuilt_from_the_store(
    demo_run: DemoRun, tmp_path: Path
) -> None:
    """The report a period's composition compares with: the one the archive holds (what
    readers got), else the same period rebuilt from the store."""
    db = tmp_path / "copy.db"
    with sqlite3.connect(demo_run.db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    out = tmp_path / "reports"
    out.mkdir()
    settings = Settings(feeds=demo_run.feeds, db=db, out=out)
    after = (date(2026, 3, 14), date(2026, 3, 21))  # the demo week is the period before it
    with RunContext(settings) as ctx:
        rebuilt = previous_report(ctx, *after)
        assert rebuilt is not None and (rebuilt.period.start, rebuilt.period.end) == (
            date(2026, 3, 6),
            date(2026, 3, 13),
        )
        assert rebuilt.developments and rebuilt.sections.outlook.indicators
        edited = rebuilt.model_copy(deep=True)
        edited.developments[0].title.text = "An editor's headline for the archive"
        (out / "mongolia-2026-03-06_2026-03-13.json").write_text(edited.to_json())
        archived = previous_report(ctx, *after)
        assert (
            archived is not None and archived.developments[0].title.text == edited.developments[0].title.text
        )
        (out / "mongolia-2026-03-06_2026-03-13.json").write_text('{"schema_version": 1}')
        again = previous_report(ctx, *after)  # unreadable: rebuilt, not an error
        assert again is not None and again.developments[0].title.text == rebuilt.developments[0].title.text
        assert period_evidence(ctx, *after).evidence.previous_report is not None
