"""The review in the report job: the desk's edits applied through the editorial seam, and the gate.

:class:`ReviewEditorial` is the :class:`~osint.jobs.report.Editorial` made from a
period's review record: it applies the live edits (before analysis, then to the verified
draft) and fills in the report's review. An approved period covers only the items
stored when it was approved, so building it again gives the same report.
:func:`approved_or_refuse` is what ``osint send`` asks when ``OSINT_REVIEW=required``.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from ..analyse.base import Draft, Evidence
from ..analyse.verify import why_unsupported
from ..cluster import story_from
from ..editorial import Applied, Edit, adjust_draft, adjust_evidence
from ..errors import ReviewError
from ..models import Report, Review, Sentence
from ..review import ReviewLog, ReviewState
from ..store import Store


class ReviewEditorial:
    """A period's live edits and review state, as the report job's editorial layer."""

    def __init__(self, log: ReviewLog, start: date, end: date) -> None:
        self.edits: list[Edit] = log.edits(start, end)
        self.state: ReviewState = log.state(start, end)
        self.last_item = self.state.last_item
        self.applied = Applied()

    def evidence(self, evidence: Evidence) -> Evidence:
        items, stories = adjust_evidence(
            evidence.items, evidence.stories, self.edits, story_from, self.applied
        )
        return dataclasses.replace(evidence, items=items, stories=stories)

    def draft(self, draft: Draft, evidence: Evidence) -> Draft:
        def check(sentence: Sentence) -> str | None:
            return why_unsupported(sentence, evidence)

        return adjust_draft(draft, evidence.items, evidence.stories, self.edits, check, self.applied)

    def report(self, report: Report) -> Report:
        return report.model_copy(update={"review": review_of(self.state)})


def review_of(state: ReviewState) -> Review:
    """The report's ``review`` block from the store's review state."""
    return Review(
        status="approved" if state.status == "approved" else "draft",
        approved_by=state.approved_by,
        approved_at=state.approved_at,
        changes=state.changes,
    )


def approved_or_refuse(store: Store, start: date, end: date) -> ReviewState:
    """The period's review when an editor approved it; :class:`ReviewError` saying what to do otherwise."""
    state = ReviewLog(store).state(start, end)
    if state.status != "approved":
        raise ReviewError(
            f"the report for {start} to {end} is not approved (OSINT_REVIEW=required): "
            "an editor approves it in the desk (osint serve), which sends it"
        )
    return state
