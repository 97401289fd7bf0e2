"""After a report is built: the archive, the email, and the weekly job that does it all.

``osint run`` and the scheduler both call :func:`run_weekly`, so a cron-started run and
a scheduled one are the same thing: take the run lock, collect, build the last complete
week's report in every format, rebuild the archive, email it. ``osint send`` calls
:func:`send_report`. This module sits on top of :mod:`osint.pipeline` (which builds and
writes reports) and wires in the archive and distribute stages and the store's record
of sends.

Files are written atomically and the JSON last, so at every moment the JSON on disk
(what the archive lists and what an email is built from) belongs to a complete set; a
run interrupted at any step leaves the previous report and the store as they were.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import jinja2

from . import pipeline
from .archive import render_archive, scan_reports
from .collect import ProgressHook
from .distribute import (
    LoadedReport,
    MailConfig,
    ReportFiles,
    build_message,
    deliver,
    load_report,
    recipient_address,
)
from .errors import DeliveryError, ReportError
from .locks import exclusive_lock
from .models import SendRecord, SourceResult
from .periods import last_complete_week, parse_weekday, week_containing
from .settings import Settings
from .store import Store

log = logging.getLogger(__name__)

WEEKLY_FORMATS = ("html", "pdf", "md", "json")
"""Every format, the JSON last: it is the record the archive and the email read."""
RUN_KIND = "weekly"
Step = Callable[[str], None]
SendStatus = Literal["sent", "sent-without-pdf", "refused", "failed"]


def run_lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".run.lock")


def rebuild_archive(settings: Settings, out_dir: Path, *, now: datetime | None = None) -> list[Path]:
    """Rewrite ``index.html`` and ``feed.xml`` in ``out_dir`` from the reports found there."""
    files = render_archive(
        scan_reports(out_dir),
        settings.templates_dir,
        settings.zone(),
        reports_url=settings.reports_url,
        now=now,
    )
    paths = []
    for name, data in files.items():
        path = out_dir / name
        pipeline.write_atomically(path, data)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- sending


def report_json(path: Path) -> Path:
    """The JSON file of the report that ``path`` (any of its files) belongs to."""
    return ReportFiles.beside(path).json


@dataclass
class SendOutcome:
    """What one report's email did: who got it, who already had it, who did not."""

    report: str
    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    eml: Path | None = None
    pdf_omitted_at: str | None = None
    message_id: str | None = None

    @property
    def complete(self) -> bool:
        """Everyone configured has the report (now or before)."""
        return self.error is None and not self.refused


def _send_locked(
    settings: Settings,
    report: LoadedReport,
    db: Path,
    *,
    force: bool,
    dry_run: bool,
    sleep: Callable[[float], None],
) -> SendOutcome:
    zone = settings.zone()
    outcome = SendOutcome(report.files.stem)
    if dry_run:
        config = MailConfig.from_settings(settings, need_server=False)
        msg = build_message(
            report, config, config.recipients, templates_dir=settings.templates_dir, zone=zone
        )
        eml = report.files.json.with_name(f"{report.files.stem}.eml")
        pipeline.write_atomically(eml, msg.as_bytes())
        outcome.eml, outcome.message_id = eml, str(msg["Message-ID"])
        return outcome
    config = MailConfig.from_settings(settings)
    store = Store.open(db)
    try:
        had = set() if force else store.delivered_to(report.files.stem)
        todo = [r for r in config.recipients if recipient_address(r) not in had]
        outcome.already = [r for r in config.recipients if recipient_address(r) in had]
        if not todo:
            return outcome
        doc = report.doc

        def record(
            recipient: str, status: SendStatus, message_id: str | None, error: str | None
        ) -> SendRecord:
            return SendRecord(
                report=report.files.stem,
                period_start=doc.period.start,
                period_end=doc.period.end,
                path=str(report.files.json.resolve()),
                recipient=recipient_address(recipient),
                message_id=message_id,
                sent_at=datetime.now(UTC),
                status=status,
                error=error,
            )

        try:
            result = deliver(
                report, config, todo, templates_dir=settings.templates_dir, zone=zone, sleep=sleep
            )
        except DeliveryError as exc:
            store.record_sends([record(r, "failed", None, str(exc)) for r in todo])
            outcome.error = str(exc)
            return outcome
        ok: SendStatus = "sent-without-pdf" if result.pdf_omitted else "sent"
        store.record_sends(
            [record(r, ok, result.message_id, None) for r in result.accepted]
            + [record(r, "refused", result.message_id, why) for r, why in result.refused.items()]
        )
        outcome.sent, outcome.refused = result.accepted, result.refused
        outcome.message_id = result.message_id
        outcome.pdf_omitted_at = result.pdf_location if result.pdf_omitted else None
        return outcome
    finally:
        store.close()


def send_report(
    settings: Settings,
    path: Path,
    *,
    db_path: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> SendOutcome:
    """Email an already written report (``path`` is any of its files) to OSINT_MAIL_TO.

    Recipients who were sent this report before are skipped unless ``force``; a failure is
    recorded and returned in the outcome, not raised, so several reports can be sent in turn.
    """
    report = load_report(ReportFiles.beside(path))
    db = db_path or settings.db
    with exclusive_lock(run_lock_path(db), "osint run or send"):
        return _send_locked(settings, report, db, force=force, dry_run=dry_run, sleep=sleep)


# --------------------------------------------------------------------------- the weekly job


@dataclass
class WeeklyOutcome:
    """What a weekly run did, for the CLI to print and the scheduler to log."""

    period: tuple[date, date]
    collected: list[SourceResult] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    archive: list[Path] = field(default_factory=list)
    send: SendOutcome | None = None
    mail_skipped: str | None = None

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
    settings: Settings,
    *,
    week_of: date | None = None,
    today: date | None = None,
    feeds_path: Path | None = None,
    db_path: Path | None = None,
    out_dir: Path | None = None,
    engine: str = "extractive",
    email: bool = True,
    force: bool = False,
    dry_run: bool = False,
    on_step: Step | None = None,
    progress: ProgressHook | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WeeklyOutcome:
    """Collect, build the week's report in every format, rebuild the archive, email it.

    Raises (nothing built) on bad configuration, a busy lock or a failed build; a failed
    email is in the outcome (``delivered`` is false), because the report itself is done.
    ``on_step`` is called after each step ("collected", "built", "written", "archived",
    "sent") so the CLI can show progress.
    """
    db = db_path or settings.db
    out = out_dir or settings.out
    period = report_period(settings, week_of=week_of, today=today)
    step = on_step or (lambda name: None)
    mail = email and (dry_run or settings.mail_configured())
    if mail:
        MailConfig.from_settings(settings, need_server=not dry_run)  # refuse bad mail settings before working
    with exclusive_lock(run_lock_path(db), "osint run or send"):
        outcome = WeeklyOutcome(period)
        store = Store.open(db)
        run_id = store.start_run(RUN_KIND)
        store.close()
        status = "failed"
        try:
            outcome.collected = pipeline.collect(
                settings, feeds_path=feeds_path, db_path=db, progress=progress
            )
            step("collected")
            report = pipeline.build_report(
                settings, period[0], period[1], engine=engine, feeds_path=feeds_path, db_path=db
            )
            step("built")
            outcome.paths = _written(
                lambda: pipeline.write_report(report, settings, out, WEEKLY_FORMATS), out
            )
            step("written")
            outcome.archive = _written(lambda: rebuild_archive(settings, out), out)
            step("archived")
            if not email:
                outcome.mail_skipped = "--no-email"
            elif not mail:
                outcome.mail_skipped = "mail is not configured (OSINT_SMTP_HOST, OSINT_MAIL_TO)"
            else:
                loaded = load_report(ReportFiles.beside(outcome.paths[-1]))
                outcome.send = _send_locked(settings, loaded, db, force=force, dry_run=dry_run, sleep=sleep)
                step("sent")
            status = "done" if outcome.delivered else "not-sent"
        finally:
            store = Store.open(db)
            try:
                store.finish_run(run_id, status, _run_stats(outcome))
            finally:
                store.close()
        return outcome


def _written(write: Callable[[], list[Path]], out: Path) -> list[Path]:
    """Run a render-and-write step; its I/O and template failures become a one-line ReportError."""
    try:
        return write()
    except OSError as exc:
        raise ReportError(f"cannot write to {out}: {exc.strerror or exc}") from exc
    except jinja2.TemplateError as exc:
        raise ReportError(f"cannot render the report: {type(exc).__name__}: {exc}") from exc


def _run_stats(outcome: WeeklyOutcome) -> dict[str, object]:
    send = outcome.send
    return {
        "period": [d.isoformat() for d in outcome.period],
        "paths": [str(p) for p in outcome.paths],
        "sent": send.sent if send else [],
        "refused": send.refused if send else {},
        "send_error": send.error if send else None,
        "mail_skipped": outcome.mail_skipped,
    }


def last_weekly_run(settings: Settings, db_path: Path | None = None) -> datetime | None:
    """When the last weekly run that built its report started (for the scheduler's catch-up)."""
    store = Store.open(db_path or settings.db)
    try:
        return store.last_run_started(RUN_KIND, ("done", "not-sent"))
    finally:
        store.close()
