"""The weekly job (``osint run`` and the scheduler): collect, report on the week, archive, email.

Under the run lock: collect, build the week's report (with the review desk's edits),
write every format (the JSON last: it is the record the archive and the email read),
rebuild the archive, email it. With ``OSINT_REVIEW=required`` a week no editor has
approved stops after building: the reviewers are told where the draft waits instead.
Files are written atomically, so a run interrupted at any step leaves the previous
report and the store as they were. The run is one row of ``runs`` (kind ``weekly``)
holding the run's stats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..distribute import MailConfig, ReportFiles, load_report
from ..models import SourceResult
from ..periods import last_complete_week, parse_weekday, week_containing
from ..settings import Settings
from .collect import collect
from .context import RunContext
from .gather import ProgressHook
from .report import build_report, rebuild_archive, write_report
from .review import ReviewRequest, request_review, reviewed
from .send import SendOutcome, send_loaded

log = logging.getLogger(__name__)

WEEKLY_FORMATS = ("html", "pdf", "md", "json")
"""Every format, the JSON last: it is the record the archive and the email read."""
RUN_KIND = "weekly"
Step = Callable[[str], None]


@dataclass
class WeeklyOutcome:
    """What a weekly run did, for the CLI to print and the scheduler to log."""

    period: tuple[date, date]
    collected: list[SourceResult] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    archive: list[Path] = field(default_factory=list)
    send: SendOutcome | None = None
    mail_skipped: str | None = None
    review: ReviewRequest | None = None
    """Set when OSINT_REVIEW=required and the week is not approved: the draft waits in the desk."""

    @property
    def delivered(self) -> bool:
        return self.send is None or self.send.complete


def report_period(
    settings: Settings, *, week_of: date | None = None, today: date | None = None
) -> tuple[date, date]:
    """The week ``week_of`` falls in, else the last complete week before today (in OSINT_TIMEZONE)."""
    week_end = parse_weekday(settings.week_end)
    if week_of is not None:
        return week_containing(week_of, week_end)
    return last_complete_week(today or datetime.now(settings.zone()).date(), week_end)


def run_weekly(
    ctx: RunContext,
    *,
    week_of: date | None = None,
    today: date | None = None,
    email: bool = True,
    force: bool = False,
    dry_run: bool = False,
    progress: ProgressHook | None = None,
    on_step: Step | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WeeklyOutcome:
    """Collect, build the week's report in every format, rebuild the archive, email it.

    Raises (nothing built) on bad configuration, a busy lock or a failed build; a failed
    email is in the outcome (``delivered`` is false), because the report itself is done.
    ``on_step`` is told each step as it starts ("collecting", "building", "writing",
    "archiving", "sending"): the CLI shows it beside the progress bar.
    """
    settings = ctx.settings
    period = report_period(settings, week_of=week_of, today=today)
    step = on_step or (lambda name: None)
    mail = mail_wanted(settings, email=email, dry_run=dry_run)  # refuse bad mail settings before working
    with ctx.lock("run"), ctx.recorded(RUN_KIND) as record:
        outcome = WeeklyOutcome(period)
        step("collecting")
        outcome.collected = collect(ctx, progress=progress)
        publish_week(
            ctx, outcome, email=email, mail=mail, force=force, dry_run=dry_run, sleep=sleep, step=step
        )
        record.status = "done" if outcome.delivered else "not-sent"
        return outcome


def mail_wanted(settings: Settings, *, email: bool, dry_run: bool) -> bool:
    """Whether this run emails its report; bad mail settings are refused here, before any work."""
    mail = email and (dry_run or settings.mail_configured())
    if mail:
        MailConfig.from_settings(settings, need_server=not dry_run)
    return mail


def publish_week(
    ctx: RunContext,
    outcome: WeeklyOutcome,
    *,
    email: bool,
    mail: bool,
    force: bool,
    dry_run: bool,
    sleep: Callable[[float], None],
    step: Step,
) -> None:
    """After collecting: build the period's report, write every format, rebuild the archive, email it."""
    settings = ctx.settings
    stats = ctx.stats
    stats.set_value("run/period", [d.isoformat() for d in outcome.period])
    step("building")
    layer = reviewed(ctx, *outcome.period)  # the desk's edits, if any
    report = build_report(ctx, *outcome.period, editorial=layer, now=layer.approved_at)
    if settings.review == "required" and layer.state.status != "approved":
        # Nothing is written to the archive or sent: the draft waits for an editor.
        outcome.review = request_review(
            settings, report, email=mail and not dry_run, desk=ctx.config.desk, sleep=sleep
        )
        outcome.mail_skipped = outcome.review.describe()
        stats.set_value("send/skipped", outcome.mail_skipped)
        stats.set_value("review/told", outcome.review.told)
        return
    step("writing")
    outcome.paths = write_report(ctx, report, WEEKLY_FORMATS)
    stats.set_value("run/paths", [str(p) for p in outcome.paths])
    step("archiving")
    outcome.archive = rebuild_archive(settings, stats=stats)
    if not email:
        outcome.mail_skipped = "--no-email"
    elif not mail:
        outcome.mail_skipped = "mail is not configured (OSINT_SMTP_HOST, OSINT_MAIL_TO)"
    else:
        step("sending")
        loaded = load_report(ReportFiles.beside(outcome.paths[-1]))
        outcome.send = send_loaded(ctx, loaded, force=force, dry_run=dry_run, sleep=sleep)
    stats.set_value("send/skipped", outcome.mail_skipped)


def last_weekly_run(ctx: RunContext) -> datetime | None:
    """When the last weekly run that built its report started (for the scheduler's catch-up)."""
    return ctx.store.last_run_started(RUN_KIND, ("done", "not-sent"))
