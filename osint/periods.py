"""Which days a weekly report covers: weeks that end on a configurable weekday.

Pure date arithmetic, shared by ``osint run`` and the scheduler so both agree on the
period. A week is the seven days ending on ``OSINT_WEEK_END`` (default Sunday, so
Monday–Sunday); "the last complete week" is the latest such week whose last day is
before today, so a run on the week's own last day reports on the week before.
"""

from __future__ import annotations

from datetime import date, timedelta

from .errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Python's numbering: ``date.weekday()`` is the index here (Monday is 0)."""


def parse_weekday(value: str) -> int:
    """``"sunday"``, ``"Sun"`` or ``"SUN"`` -> 6 (Python's numbering, Monday 0).

    Numbers are refused on purpose: cron, APScheduler and Python each number the
    weekdays differently, and a name cannot be misread.
    """
    text = value.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return index
    raise ConfigError(f"OSINT_WEEK_END: {value!r} is not a weekday name (e.g. sunday, fri)")


def week_containing(day: date, week_end: int) -> tuple[date, date]:
    """The first and last day of the week (ending on weekday ``week_end``) that holds ``day``."""
    end = day + timedelta(days=(week_end - day.weekday()) % 7)
    return end - timedelta(days=6), end


def last_complete_week(today: date, week_end: int) -> tuple[date, date]:
    """The latest week ending on ``week_end`` whose last day is before ``today``."""
    start, end = week_containing(today - timedelta(days=1), week_end)
    if end >= today:
        start, end = start - timedelta(days=7), end - timedelta(days=7)
    return start, end
