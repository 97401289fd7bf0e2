"""The review in the report job: the desk's edits applied through the editorial seam, and the gate.

:class:`ReviewEditorial` is the :class:`~osint.jobs.report.Editorial` made from a
period's review record: it applies the live edits (before analysis, then to the verified
draft) and fills in the report's review. An approved period covers only the items
stored when it was approved, so building it again gives the same report.
:func:`approved_or_refuse` is what sending asks when ``OSINT_REVIEW=required``, and
:func:`request_review` tells the reviewers a draft waits (the weekly run, instead of
sending the report).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import quote

from ..analyse.verify import why_unsupported
from ..cluster import story_from
from ..distribute import MailConfig, header_text, period_text, send_bytes
from ..editorial import Applied, adjust_draft, adjust_evidence
from ..edits import Edit
from ..errors import DeliveryError, ReviewError
from ..models import Draft, Evidence, Report, Review, Sentence
from ..review import ReviewLog, ReviewState
from ..settings import Settings
from ..store import Store
from .context import RunContext


class ReviewEditorial:
    """A period's live edits and review state, as the report job's editorial layer."""

    def __init__(self, log: ReviewLog, start: date, end: date) -> None:
        self.edits: list[Edit] = log.edits(start, end)
        self.state: ReviewState = log.state(start, end)
        self.last_item = self.state.last_item
        self.approved_at = self.state.approved_at
        self.applied = Applied()

    def evidence(self, evidence: Evidence) -> Evidence:
        make_story = functools.partial(story_from, profile=evidence.profile)
        items, stories = adjust_evidence(
            evidence.items, evidence.stories, self.edits, make_story, self.applied
        )
        return dataclasses.replace(evidence, items=items, stories=stories)

    def draft(self, draft: Draft, evidence: Evidence) -> Draft:
        def check(sentence: Sentence) -> str | None:
            return why_unsupported(sentence, evidence)

        return adjust_draft(draft, evidence.items, evidence.stories, self.edits, check, self.applied)

    def report(self, report: Report) -> Report:
        return report.model_copy(update={"review": review_of(self.state)})


def reviewed(ctx: RunContext, start: date, end: date) -> ReviewEditorial:
    """The period's editorial layer from the run's store (the desk's own, in a multi-desk run)."""
    return ReviewEditorial(ReviewLog(ctx.store, ctx.config.desk), start, end)


def desk_root(desk: str | None) -> str:
    """Where a desk's pages are in the review desk: ``/desks/NAME``, or the root without desks."""
    return f"/desks/{quote(desk, safe='')}" if desk else ""


def review_of(state: ReviewState) -> Review:
    """The report's ``review`` block from the store's review state."""
    return Review(
        status="approved" if state.status == "approved" else "draft",
        approved_by=state.approved_by,
        approved_at=state.approved_at,
        changes=state.changes,
    )


def approved_or_refuse(store: Store, doc: Report) -> ReviewState:
    """The review of a written report that may go out; :class:`ReviewError` saying why not.

    With ``OSINT_REVIEW=required`` only a report an editor approved is sent: its JSON
    says so, and the store agrees (the same approval, nothing changed since). The file
    does not name its desk; the approval it carries (period and time) is looked for in
    every desk's review.
    """
    start, end = doc.period.start, doc.period.end
    for desk in ReviewLog.desks(store):
        state = ReviewLog(store, desk).state(start, end)
        if doc.review.status == state.status == "approved" and doc.review.approved_at == state.approved_at:
            return state
    raise ReviewError(
        f"not sent: the report for {start} to {end} is not approved (OSINT_REVIEW=required); "
        "an editor approves it in the review desk (osint serve), which sends it"
    )


@dataclass
class ReviewRequest:
    """A draft that waits for an editor: where to review it, and who was told."""

    link: str
    told: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        who = f"; reviewers told: {', '.join(self.told)}" if self.told else ""
        why = f"; reviewers not told: {self.error}" if self.error else ""
        return f"awaiting an editor's approval (OSINT_REVIEW=required): {self.link}{who}{why}"


def request_review(
    settings: Settings,
    report: Report,
    *,
    email: bool,
    desk: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReviewRequest:
    """Tell OSINT_REVIEW_TO (if set, and mail is) that the period's draft waits in the desk
    (``desk``: its desk of a desks file, whose pages are under ``/desks/NAME``)."""
    key = f"{report.period.start.isoformat()}_{report.period.end.isoformat()}"
    base = (settings.desk_url or "http://127.0.0.1:8000").rstrip("/")
    request = ReviewRequest(f"{base}{desk_root(desk)}/reports/{key}")
    reviewers = [a.strip() for a in settings.review_to.split(",") if a.strip()]
    if not email or not reviewers or not settings.smtp_host:
        if email and not reviewers:
            request.error = "OSINT_REVIEW_TO is not set"
        elif email and not settings.smtp_host:
            request.error = "mail is not configured (OSINT_SMTP_HOST)"
        return request
    config = MailConfig.from_settings(settings.model_copy(update={"mail_to": settings.review_to}))
    msg = EmailMessage()
    msg["Subject"] = header_text(
        f"For review: {report.title}, {period_text(report.period.start, report.period.end)}"
    )
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Message-ID"] = make_msgid(domain=config.envelope_sender.partition("@")[2] or "localhost")
    msg.set_content(
        f"The draft of {report.title} for {period_text(report.period.start, report.period.end)} is ready "
        f"for review: {len(report.developments)} key developments from {report.coverage.items} items.\n\n"
        f"Review and approve it in the desk: {request.link}\n\n"
        "Nothing is sent to the report's recipients before an editor approves it.\n"
    )
    try:
        refused, _attempts = send_bytes(config, msg.as_bytes(), list(config.recipients), sleep=sleep)
    except DeliveryError as exc:
        request.error = str(exc)
        return request
    request.told = [r for r in config.recipients if r not in refused]
    return request
