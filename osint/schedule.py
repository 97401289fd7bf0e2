"""``osint schedule``: run the weekly job in-process at a cron time (APScheduler 3.x).

What a plain ``CronTrigger.from_crontab`` would get wrong, and what this module does instead:

- Day-of-week numbers: cron counts Sunday as 0 (and 7), APScheduler 3 counts Monday
  as 0, so ``0 6 * * 1`` would silently move from Monday to Tuesday. The cron field is
  translated to day names before APScheduler sees it.
- Daylight saving time: when clocks go back, APScheduler fires a job in the repeated
  hour twice (once per UTC offset); :class:`CronTrigger` here fires at the first
  occurrence only, as cron does. When clocks go forward past the job's time it fires
  once, in the hour after the gap.
- Missed runs: the default ``misfire_grace_time`` of one second silently drops a run
  after the machine slept; here the grace is most of a week and runs are coalesced, and
  a run the machine was off for happens once when the scheduler starts
  (:func:`missed_fire_time` decides from the store's record of the last weekly run).
- One at a time: ``max_instances=1`` in the process, and the run lock of
  :mod:`osint.locks` against a cron-started ``osint run`` at the same moment.

Each scheduled run is the job ``osint run`` runs (:func:`osint.jobs.weekly.run_weekly`),
in a run context of its own.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger as _APSCronTrigger

from .errors import ConfigError, OsintError
from .jobs.context import RunContext
from .jobs.weekly import last_weekly_run, run_weekly
from .settings import Settings

log = logging.getLogger(__name__)

MISFIRE_GRACE = timedelta(days=6)
"""How late a run may still start (after a sleep, a restart): most of a week, never the next one."""

JOB_ID = "weekly-report"

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Cron's numbering: index 0 is Sunday (7 is Sunday too)."""
_APS_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
_DOW_TOKEN = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")


class CronTrigger(_APSCronTrigger):  # type: ignore[misc]
    """APScheduler's cron trigger, firing once (not twice) in an hour repeated by DST."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and (repeat := _repeated_by(fire)):
            # Ask again from the end of the repeated hour (APScheduler, asked from just
            # after ``fire``, would answer ``fire`` again).
            fire = super().get_next_fire_time(None, fire + repeat)
        return fire


def _repeated_by(moment: datetime) -> timedelta | None:
    """How long ago the same wall-clock time last occurred, when ``moment`` is its repeat."""
    if moment.fold != 1:
        return None
    first, second = moment.replace(fold=0).utcoffset(), moment.utcoffset()
    if first is None or second is None or first <= second:
        return None
    return first - second


def _cron_day(token: str) -> int:
    if token.isdigit():
        n = int(token)
        if not 0 <= n <= 7:
            raise ValueError(f"day-of-week {token} is out of range 0-7")
        return n % 7
    if token[:3] in _CRON_DAYS and len(token) >= 3:
        return _CRON_DAYS.index(token[:3])
    raise ValueError(f"day-of-week {token!r} is neither 0-7 nor a day name")


def translate_day_of_week(field: str) -> str:
    """A cron day-of-week field (0 and 7 are Sunday) as APScheduler day names.

    ``"1-5"`` -> ``"mon,tue,wed,thu,fri"``, ``"0"`` and ``"7"`` -> ``"sun"``, ``"*/2"`` ->
    ``"sun,tue,thu,sat"`` (cron's reading, where APScheduler would start from Monday).
    """
    days: set[int] = set()
    for part in field.lower().split(","):
        m = _DOW_TOKEN.match(part.strip())
        if not m:
            raise ValueError(f"day-of-week {part!r} is not understood")
        star, first, last, step = m.groups()
        if star:
            lo, hi = 0, 6
        else:
            lo = _cron_day(first)
            hi = _cron_day(last) if last else (6 if step else lo)
            if last and last == "7":
                hi = 7  # "5-7" is Friday to Sunday
            if hi < lo:
                raise ValueError(f"day-of-week range {part!r} runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, int(step or 1)))
    if len(days) == 7:
        return "*"
    return ",".join(name for name in _APS_ORDER if _CRON_DAYS.index(name) in days)


def cron_trigger(expression: str, zone: tzinfo) -> CronTrigger:
    """The trigger for a five-field cron expression (``OSINT_SCHEDULE``) in ``zone``."""
    text = _MACROS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise ConfigError(
            f"OSINT_SCHEDULE: {expression!r} needs five fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 6 * * MON'"
        )
    minute, hour, day, month, dow = fields
    if day != "*" and dow != "*":
        raise ConfigError(
            f"OSINT_SCHEDULE: {expression!r} restricts both day-of-month and day-of-week; "
            "cron would fire on either, osint refuses to guess: restrict one of them"
        )
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=translate_day_of_week(dow),
            timezone=zone,
        )
    except ValueError as exc:
        raise ConfigError(f"OSINT_SCHEDULE: {expression!r}: {exc}") from exc


def fire_times(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every time ``trigger`` fires in ``(start, end]``, in order (for tests and for catch-up)."""
    times: list[datetime] = []
    previous: datetime | None = None
    now = start + timedelta(seconds=1)
    while (fire := trigger.get_next_fire_time(previous, now)) is not None and fire <= end:
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


def missed_fire_time(
    trigger: CronTrigger, last_run: datetime | None, now: datetime, grace: timedelta = MISFIRE_GRACE
) -> datetime | None:
    """The scheduled time the machine missed since ``last_run``, if it should run now.

    Several missed times coalesce into the latest one; a time older than ``grace`` is
    dropped, as APScheduler drops a misfire. With no recorded run there is nothing to
    catch up: the first run waits for the schedule.
    """
    if last_run is None:
        return None
    missed = fire_times(trigger, max(last_run, now - grace), now)
    return missed[-1] if missed else None


def build_scheduler(
    job: Callable[[], object],
    trigger: CronTrigger,
    *,
    run_now: bool,
    now: datetime,
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """A (not yet started) scheduler holding the weekly job; ``run_now`` adds one run at ``now``."""
    sched = scheduler or BackgroundScheduler(timezone=trigger.timezone)
    options: dict[str, Any] = {}
    if run_now:
        options["next_run_time"] = now
    sched.add_job(
        job,
        trigger,
        id=JOB_ID,
        name="weekly report",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
        replace_existing=True,
        **options,
    )
    return sched


def next_run_time(sched: BaseScheduler) -> datetime | None:
    job = sched.get_job(JOB_ID)
    return job.next_run_time if job is not None else None


def serve(
    sched: BaseScheduler,
    *,
    stop: threading.Event | None = None,
    on_ready: Callable[[datetime | None], None] | None = None,
    on_run: Callable[[], None] | None = None,
) -> None:
    """Run ``sched`` until SIGTERM or SIGINT (or ``stop`` is set), then stop cleanly.

    A run in progress is allowed to finish (it would be safe to kill, but finishing spares
    the work); no new run starts after the signal. After every run the next run time is
    logged, so the journal says when the next report is due.
    """
    stopping = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s; stopping the scheduler", signal.Signals(signum).name)
        stopping.set()

    def after_run(event: JobExecutionEvent) -> None:
        when = next_run_time(sched)
        log.info("next run at %s", when.isoformat() if when else "never")
        if on_run:
            on_run()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)} if in_main else {}
    try:
        sched.add_listener(after_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        sched.start()
        when = next_run_time(sched)
        log.info("next run at %s", when.isoformat() if when else "never")
        if on_ready:
            on_ready(when)
        stopping.wait()
        sched.shutdown(wait=True)
        log.info("scheduler stopped")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def desks_job(settings: Settings) -> Callable[[], None]:
    """The scheduled job with a desks file: every desk, as ``osint run --desks`` runs them."""
    from .jobs.desks import load_desk_list, run_desks

    def job() -> None:
        try:
            with RunContext(settings) as ctx:
                outcome = run_desks(ctx, load_desk_list(settings))
        except OsintError as exc:
            log.error("weekly run of the desks failed, nothing was built: %s", exc)
            return
        for desk in outcome.desks:
            start, end = desk.weekly.period
            if desk.error is not None:
                log.error("desk %s: report for %s to %s not built: %s", desk.desk, start, end, desk.error)
            elif desk.weekly.send is not None and not desk.weekly.send.complete:
                log.error("desk %s: report built but not sent to everyone", desk.desk)
            else:
                log.info("desk %s: report %s to %s written", desk.desk, start, end)

    return job


def weekly_job(settings: Settings) -> Callable[[], None]:
    """The scheduled job: the same weekly run as ``osint run``; failures are logged, not raised."""
    if settings.desks is not None:
        return desks_job(settings)

    def job() -> None:
        try:
            with RunContext(settings) as ctx:
                outcome = run_weekly(ctx)
        except OsintError as exc:
            log.error("weekly run failed, nothing was built: %s", exc)
            return
        start, end = outcome.period
        log.info("weekly report %s to %s written: %s", start, end, ", ".join(str(p) for p in outcome.paths))
        send = outcome.send
        if outcome.mail_skipped:
            log.info("not emailed: %s", outcome.mail_skipped)
        elif send is not None and send.error:
            log.error("report built but not sent: %s", send.error)
        elif send is not None:
            for recipient, why in send.refused.items():
                log.error("report built but refused for %s: %s", recipient, why)
            log.info("emailed to %d recipient(s); %d had it already", len(send.sent), len(send.already))

    return job


def run_scheduler(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    on_ready: Callable[[datetime | None], None] | None = None,
    on_run: Callable[[], None] | None = None,
) -> None:
    """``osint schedule``: catch up a missed run once, then run on OSINT_SCHEDULE until stopped.

    With a desks file every desk runs at OSINT_SCHEDULE (in OSINT_TIMEZONE), each reporting
    on its own week in its own zone; a desk's own ``schedule`` is for a crontab line of its own.
    """
    zone = settings.zone()
    trigger = cron_trigger(settings.schedule, zone)
    now = datetime.now(zone)
    with RunContext(settings) as ctx:
        last = last_weekly_run(ctx)
    missed = missed_fire_time(trigger, last, now)
    if missed is not None:
        log.info("the run due at %s was missed (the machine was off or asleep); running it now", missed)
    sched = build_scheduler(weekly_job(settings), trigger, run_now=missed is not None, now=now)
    log.info("schedule %r in %s", settings.schedule, settings.timezone)
    serve(sched, stop=stop, on_ready=on_ready, on_run=on_run)
