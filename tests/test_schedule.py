"""The schedule with a controlled clock: explicit datetimes in, fire times out.

APScheduler's own clock is never waited on: triggers are asked for their next fire time
at given instants, and the one live scheduler test runs a job due at once and waits on
an event the job sets.
"""

from __future__ import annotations

import itertools
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from osint.errors import ConfigError
from osint.periods import last_complete_week, parse_weekday, week_containing
from osint.schedule import (
    MISFIRE_GRACE,
    build_scheduler,
    cron_trigger,
    fire_times,
    missed_fire_time,
    next_run_time,
    serve,
    translate_day_of_week,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ULAANBAATAR = ZoneInfo("Asia/Ulaanbaatar")


@pytest.mark.parametrize(
    ("cron", "aps"),
    [
        ("1", "mon"),
        ("MON", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("5-7", "fri,sat,sun"),
        ("0,6", "sat,sun"),
        ("*/2", "tue,thu,sat,sun"),
        ("*", "*"),
        ("0-7", "*"),
    ],
)
def test_cron_day_numbers_become_day_names(cron: str, aps: str) -> None:
    assert translate_day_of_week(cron) == aps


def test_numeric_monday_fires_on_monday_not_tuesday() -> None:
    # APScheduler 3 alone would read the 1 as Tuesday.
    trigger = cron_trigger("0 6 * * 1", ULAANBAATAR)
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 11, 12, tzinfo=ULAANBAATAR))
    assert fire == datetime(2026, 3, 16, 6, tzinfo=ULAANBAATAR)
    assert fire.strftime("%A") == "Monday"
    sunday = cron_trigger("30 7 * * 0", ULAANBAATAR).get_next_fire_time(
        None, datetime(2026, 3, 11, tzinfo=ULAANBAATAR)
    )
    assert sunday == datetime(2026, 3, 15, 7, 30, tzinfo=ULAANBAATAR)


def test_default_schedule_is_monday_six_in_the_zone() -> None:
    trigger = cron_trigger("0 6 * * MON", ULAANBAATAR)
    times = fire_times(
        trigger, datetime(2026, 3, 1, tzinfo=ULAANBAATAR), datetime(2026, 4, 1, tzinfo=ULAANBAATAR)
    )
    assert [t.date() for t in times] == [date(2026, 3, d) for d in (2, 9, 16, 23, 30)]
    assert {(t.hour, t.minute, t.utcoffset()) for t in times} == {(6, 0, timedelta(hours=8))}


@pytest.mark.parametrize(
    "expression",
    ["0 6 * *", "0 6 * * MON extra", "61 6 * * MON", "0 6 * * funday", "0 6 * * 5-1", "0 6 1 * MON"],
)
def test_bad_schedules_are_config_errors(expression: str) -> None:
    with pytest.raises(ConfigError, match="OSINT_SCHEDULE"):
        cron_trigger(expression, BERLIN)


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
@pytest.mark.parametrize("hour_minute", ["0 6", "30 2", "0 2", "59 1", "0 3"])
def test_dst_changes_neither_skip_nor_double_a_week(zone: ZoneInfo, hour_minute: str) -> None:
    # A year of Sundays covers both changes (Berlin: 29 March and 25 October 2026;
    # New York: 8 March and 1 November 2026, both at 02:00 local).
    trigger = cron_trigger(f"{hour_minute} * * SUN", zone)
    times = fire_times(trigger, datetime(2026, 1, 1, tzinfo=zone), datetime(2027, 1, 1, tzinfo=zone))
    weeks = [t.isocalendar()[:2] for t in times]
    assert len(weeks) == len(set(weeks)) == 52
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps <= {timedelta(days=7), timedelta(days=7, hours=1), timedelta(days=7, hours=-1)}
    assert all(t.strftime("%a") == "Sun" for t in times)


def test_repeated_hour_fires_once_at_its_first_occurrence() -> None:
    trigger = cron_trigger("30 2 * * *", BERLIN)
    times = fire_times(trigger, datetime(2026, 10, 24, tzinfo=BERLIN), datetime(2026, 10, 27, tzinfo=BERLIN))
    assert [t.isoformat() for t in times] == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_a_time_inside_the_spring_gap_fires_once_after_it() -> None:
    trigger = cron_trigger("30 2 29 3 *", BERLIN)
    (fire,) = fire_times(trigger, datetime(2026, 3, 28, tzinfo=BERLIN), datetime(2026, 3, 30, tzinfo=BERLIN))
    # 02:30 does not exist that night; it runs at 03:30 CEST (01:30 UTC), once.
    assert fire.astimezone(ZoneInfo("UTC")).isoformat() == "2026-03-29T01:30:00+00:00"


# --------------------------------------------------------------------------- missed runs


def test_a_run_missed_while_off_happens_once_on_start() -> None:
    trigger = cron_trigger("0 6 * * MON", BERLIN)
    last_run = datetime(2026, 3, 2, 6, 0, 5, tzinfo=BERLIN)
    # Off from Sunday 8 March to Wednesday 11 March: Monday 9 March 06:00 was missed.
    now = datetime(2026, 3, 11, 9, tzinfo=BERLIN)
    assert missed_fire_time(trigger, last_run, now) == datetime(2026, 3, 9, 6, tzinfo=BERLIN)


def test_several_missed_runs_coalesce_into_the_latest() -> None:
    trigger = cron_trigger("0 6 * * *", BERLIN)
    last_run = datetime(2026, 3, 2, 6, tzinfo=BERLIN)
    now = datetime(2026, 3, 5, 12, tzinfo=BERLIN)
    assert missed_fire_time(trigger, last_run, now) == datetime(2026, 3, 5, 6, tzinfo=BERLIN)


def test_nothing_to_catch_up() -> None:
    trigger = cron_trigger("0 6 * * MON", BERLIN)
    now = datetime(2026, 3, 11, 9, tzinfo=BERLIN)
    # The last run was the scheduled one of this week.
    assert missed_fire_time(trigger, datetime(2026, 3, 9, 6, 0, 1, tzinfo=BERLIN), now) is None
    # Never ran: the first run waits for the schedule.
    assert missed_fire_time(trigger, None, now) is None
    # Off for a month: only a run inside the grace period is made up, once.
    old = datetime(2026, 1, 5, 6, tzinfo=BERLIN)
    assert missed_fire_time(trigger, old, now) == datetime(2026, 3, 9, 6, tzinfo=BERLIN)
    # A week later the machine was off again: Monday 16 March was missed by more than the grace.
    late = datetime(2026, 3, 16, 6, tzinfo=BERLIN) + MISFIRE_GRACE + timedelta(hours=1)
    assert missed_fire_time(trigger, old, late) is None


def test_scheduler_job_options_and_first_run_time() -> None:
    trigger = cron_trigger("0 6 * * MON", BERLIN)
    now = datetime.now(BERLIN)
    sched = build_scheduler(lambda: None, trigger, run_now=False, now=now)
    sched.start(paused=True)
    try:
        (job,) = sched.get_jobs()
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE.total_seconds()
        assert next_run_time(sched) == trigger.get_next_fire_time(None, now)
        assert next_run_time(sched).strftime("%a %H:%M") == "Mon 06:00"
    finally:
        sched.shutdown(wait=False)


def test_catch_up_runs_the_job_once_then_waits_for_the_schedule() -> None:
    trigger = cron_trigger("0 6 * * MON", BERLIN)
    stop = threading.Event()
    runs: list[datetime] = []

    def job() -> None:
        runs.append(datetime.now(BERLIN))
        stop.set()

    ready: list[datetime | None] = []
    sched = build_scheduler(job, trigger, run_now=True, now=datetime.now(BERLIN))
    serve(sched, stop=stop, on_ready=ready.append)
    assert len(runs) == 1
    assert ready and ready[0] is not None
    assert not sched.running


# --------------------------------------------------------------------------- periods


def test_week_end_names() -> None:
    assert parse_weekday("sunday") == 6
    assert parse_weekday("Fri") == 4
    with pytest.raises(ConfigError):
        parse_weekday("7")
    with pytest.raises(ConfigError):
        parse_weekday("su")


@pytest.mark.parametrize(
    ("today", "week_end", "period"),
    [
        (date(2026, 3, 16), "sunday", (date(2026, 3, 9), date(2026, 3, 15))),  # Monday run
        (date(2026, 3, 15), "sunday", (date(2026, 3, 2), date(2026, 3, 8))),  # Sunday: not over yet
        (date(2026, 3, 18), "sunday", (date(2026, 3, 9), date(2026, 3, 15))),
        (date(2026, 3, 14), "friday", (date(2026, 3, 7), date(2026, 3, 13))),
        (date(2026, 3, 13), "friday", (date(2026, 2, 28), date(2026, 3, 6))),
        (date(2026, 1, 1), "sunday", (date(2025, 12, 22), date(2025, 12, 28))),
    ],
)
def test_last_complete_week(today: date, week_end: str, period: tuple[date, date]) -> None:
    assert last_complete_week(today, parse_weekday(week_end)) == period


def test_week_containing_a_day() -> None:
    assert week_containing(date(2026, 3, 10), parse_weekday("sunday")) == (
        date(2026, 3, 9),
        date(2026, 3, 15),
    )
    assert week_containing(date(2026, 3, 15), parse_weekday("sunday")) == (
        date(2026, 3, 9),
        date(2026, 3, 15),
    )
    assert week_containing(date(2026, 3, 16), parse_weekday("sunday")) == (
        date(2026, 3, 16),
        date(2026, 3, 22),
    )
