"""The send job: email an already written report, once per recipient, recorded in the store.

The message is built from the report's files alone (its JSON, Markdown and PDF), so
``osint send FILE`` and the weekly run mail exactly what is on disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ..distribute import (
    LoadedReport,
    MailConfig,
    ReportFiles,
    build_message,
    deliver,
    load_report,
    recipient_address,
)
from ..errors import DeliveryError
from ..models import SendRecord
from .context import RunContext
from .files import report_errors, write_atomically

log = logging.getLogger(__name__)

SendStatus = Literal["sent", "sent-without-pdf", "refused", "failed"]


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


def send_loaded(
    ctx: RunContext,
    report: LoadedReport,
    *,
    force: bool = False,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> SendOutcome:
    """Email ``report`` to OSINT_MAIL_TO (the caller holds the run lock).

    Recipients who were sent this report before are skipped unless ``force``; a failure
    is recorded and returned in the outcome, not raised, so several reports can be sent
    in turn. ``dry_run`` writes the message beside the report and opens no store.
    """
    settings = ctx.settings
    zone = settings.zone()
    outcome = SendOutcome(report.files.stem)
    if dry_run:
        config = MailConfig.from_settings(settings, need_server=False)
        msg = build_message(
            report, config, config.recipients, templates_dir=settings.templates_dir, zone=zone
        )
        eml = report.files.json.with_name(f"{report.files.stem}.eml")
        with report_errors(eml):
            write_atomically(eml, msg.as_bytes())
        outcome.eml, outcome.message_id = eml, str(msg["Message-ID"])
        return outcome
    config = MailConfig.from_settings(settings)
    store = ctx.store
    if settings.review == "required":
        from .review import approved_or_refuse  # the desk's record; loaded only when asked for

        approved_or_refuse(store, report.doc)
    had = set() if force else store.delivered_to(report.files.stem)
    todo = [r for r in config.recipients if recipient_address(r) not in had]
    outcome.already = [r for r in config.recipients if recipient_address(r) in had]
    ctx.stats.inc_value("send/already", len(outcome.already))
    if not todo:
        return outcome
    doc = report.doc

    def record(recipient: str, status: SendStatus, message_id: str | None, error: str | None) -> SendRecord:
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
        result = deliver(report, config, todo, templates_dir=settings.templates_dir, zone=zone, sleep=sleep)
    except DeliveryError as exc:
        store.record_sends([record(r, "failed", None, str(exc)) for r in todo])
        outcome.error = str(exc)
        ctx.stats.set_value("send/error", outcome.error)
        return outcome
    ok: SendStatus = "sent-without-pdf" if result.pdf_omitted else "sent"
    store.record_sends(
        [record(r, ok, result.message_id, None) for r in result.accepted]
        + [record(r, "refused", result.message_id, why) for r, why in result.refused.items()]
    )
    outcome.sent, outcome.refused = result.accepted, result.refused
    outcome.message_id = result.message_id
    ctx.stats.inc_value("send/sent", len(result.accepted))
    ctx.stats.inc_value("send/refused", len(result.refused))
    ctx.stats.inc_value("send/attempts", result.attempts)
    outcome.pdf_omitted_at = result.pdf_location if result.pdf_omitted else None
    return outcome


def send(
    ctx: RunContext,
    paths: list[Path],
    *,
    force: bool = False,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[SendOutcome]:
    """``osint send``: each report named by ``paths`` (any of its files) emailed once, in turn.

    Yields each report's outcome as soon as it is known (several files of one report
    send it once); the run lock is held until the last one.
    """
    with ctx.lock("run"):
        seen: set[Path] = set()
        for path in paths:
            files = ReportFiles.beside(path)
            if files.json.resolve() in seen:
                continue
            seen.add(files.json.resolve())
            yield send_loaded(ctx, load_report(files), force=force, dry_run=dry_run, sleep=sleep)
