"""Which days a weekly report covers: weeks that end on a configurable weekday.

Pure date arithmetic, shared by ``osint run`` and the scheduler so both agree on the
period. A week is the seven days ending on ``OSINT_WEEK_END`` (default Sunday, so
Monday–Sunday); "the last complete week" is the latest such week whose last day is
before today, so a run on the week's own last day reports on the week before. And which
day an item belongs to when its source gives no date, or one in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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


def resolve_date(
    published: datetime | None, first_seen: datetime, now: datetime | None = None
) -> tuple[datetime, bool]:
    """The date an item is filed under, and whether it was estimated (missing or future)."""
    now = now or datetime.now(UTC)
    if published is None:
        return first_seen, True
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published > now + timedelta(days=1):
        return first_seen, True
    return published.astimezone(UTC), False
