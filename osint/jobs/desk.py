"""What the desk does, without the web: build a period's reviewed draft, record edits, approve.

A job: it chains the stages (assemble, verify, the editorial layer, render, the archive
scan) for the desk's front, :mod:`osint.desk`, which calls it and shows the outcome.

The expensive part of a draft is sorting the period's items into stories; it depends on
the store's items only, so it is kept per period until the store changes (another
process — ``osint collect`` — committed: SQLite's ``data_version``). Edits to stories
re-run analysis over the kept stories; edits to wording and order only re-apply the
layer to the kept verified draft. Everything here is synchronous and runs on the one
thread that owns the store connection.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .. import editorial
from ..analyse import Evidence, assemble_report, verify_draft
from ..analyse.base import Engine
from ..analyse.verify import VerifyStats, why_unsupported
from ..archive import scan_reports
from ..editorial import Applied
from ..edits import EVIDENCE_OPS, AddAssessment, Edit, EditSentence, ExcludeItem, Op, RenameDevelopment
from ..errors import ReviewError
from ..models import Draft, Item, Report, Sentence
from ..periods import parse_weekday, week_containing
from ..render import render
from ..review import ReviewLog, ReviewState
from ..review import parse_ops as parse_ops  # the API's edit lists, for the desk (a front reaches no stage)
from ..settings import Settings
from ..stats import Stats
from .context import RunContext
from .desk_evidence import EvidenceSummary, evidence_summary
from .files import write_atomically
from .report import (
    PeriodEvidence,
    _engine,
    feed_coverage,
    period_evidence,
    record_checks,
    report_filename,
)
from .review import ReviewEditorial, review_of

log = logging.getLogger(__name__)


@dataclass
class Base:
    """A period's sorted evidence before any edit, and the drafts written from it so far."""

    version: int
    period: PeriodEvidence
    composed: dict[tuple[int, ...], tuple[Draft, Evidence, str, VerifyStats, Applied]] = field(
        default_factory=dict
    )
    """Ids of the live evidence edits -> the verified draft written over them."""
    fragments: dict[tuple[object, ...], Markup] = field(default_factory=dict)
    """Rendered stories of the draft page, by what they show (see :mod:`osint.desk.pages`)."""
    summaries: dict[int, EvidenceSummary] = field(default_factory=dict)
    """Item id -> its evidence as the draft page shows it (items and their sorting are fixed here)."""

    def summary(self, item: Item) -> EvidenceSummary:
        found = self.summaries.get(item.id)
        if found is None:
            found = self.summaries[item.id] = evidence_summary(item)
        return found


@dataclass
class DraftView:
    """A period's draft as the desk shows it: the report and the evidence behind it."""

    start: date
    end: date
    report: Report
    evidence: Evidence
    applied: Applied
    state: ReviewState
    edits: list[Edit]
    dev_urls: list[str]
    new_since_review: set[int]
    excluded: dict[int, str]
    """Item id -> the reason it was excluded (items of the period the analyst left out)."""
    all_items: dict[int, Item]
    summary: Callable[[Item], EvidenceSummary] = evidence_summary
    """An item's evidence for the page (kept with the period's sorted evidence)."""
    fragments: dict[tuple[object, ...], Markup] = field(default_factory=dict)
    """The page's rendered stories, kept with the period's sorted evidence."""

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def document(self) -> dict[str, Any]:
        """The draft as ``report.json`` reads, with its ``review`` block."""
        data = json.loads(self.report.to_json())
        assert isinstance(data, dict)
        return data


def review_block(state: ReviewState) -> dict[str, Any]:
    """A review state as the ``review`` block of ``report.json`` (and of the API's answers)."""
    return review_of(state).model_dump(mode="json")


@dataclass(frozen=True)
class PeriodInfo:
    start: date
    end: date
    items: int
    state: ReviewState
    files: dict[str, int]

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


class DeskService:
    """The desk's operations over one run context (one store connection), see the module docstring."""

    def __init__(
        self,
        ctx: RunContext,
        *,
        engine: Callable[[RunContext], Engine] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = ctx.store
        self.log = ReviewLog(self.store, ctx.config.desk)
        self._make_engine = engine or (lambda c: _engine(c.settings.engine, c))
        self._engine: Engine | None = None
        self._clock = clock
        self._bases: dict[tuple[date, date, int | None], Base] = {}
        self._views: dict[tuple[date, date, int, int, int], DraftView] = {}

    # ------------------------------------------------------------------ reading

    def data_version(self) -> int:
        """Changes whenever another connection (a collect) commits to the store."""
        return int(self.store.db.execute("PRAGMA data_version").fetchone()[0])

    def base(self, start: date, end: date, last_item: int | None = None) -> Base:
        version = self.data_version()
        key = (start, end, last_item)
        cached = self._bases.get(key)
        if cached is None or cached.version != version:
            period = period_evidence(self.ctx, start, end, last_item=last_item)
            cached = Base(self.data_version(), period)  # sorting may have saved classifications
            self._bases = {k: v for k, v in self._bases.items() if k[:2] != (start, end)}
            self._bases[key] = cached
            _keep_out_of_gc()
        return cached

    def draft(self, start: date, end: date) -> DraftView:
        """The period's draft with every live edit applied (approved: as approved).

        Kept until the period's review record or the store changes; a draft's
        ``generated_at`` is when it was last written (an approved one's, its approval).
        """
        if end < start:
            raise ReviewError(f"period {start}_{end} ends before it starts")
        key = (start, end, self.log.revision(start, end), self.log.approvals(start, end), self.data_version())
        if key not in self._views:
            self._views = {k: v for k, v in self._views.items() if k[:2] != (start, end)}
            self._views[key] = self._build(start, end)
            gc.freeze()  # kept until the review or the store changes: see _keep_out_of_gc
        return self._views[key]

    def _build(self, start: date, end: date) -> DraftView:
        layer = ReviewEditorial(self.log, start, end)
        base = self.base(start, end, layer.last_item)
        ev_ops = tuple(e.id for e in layer.edits if e.op.op in EVIDENCE_OPS)
        if ev_ops not in base.composed:
            ev = layer.evidence(base.period.evidence)
            if self._engine is None:  # one engine for the desk's life: it keeps what it read per item
                self._engine = self._make_engine(self.ctx)
            engine = self._engine
            verified, stats = verify_draft(engine.compose(ev), ev)
            if len(base.composed) > 8:
                base.composed.clear()
            base.composed[ev_ops] = (verified, ev, engine.name, stats, layer.applied)
        verified, ev, engine_name, stats, ev_applied = base.composed[ev_ops]
        layer.applied = Applied(list(ev_applied.notes), dict(ev_applied.flagged), dict(ev_applied.left))
        state = layer.state
        when = state.approved_at if state.status == "approved" and state.approved_at else self._clock()
        when = when.astimezone(self.settings.zone()).replace(microsecond=0)  # as the report job does
        report = layer.report(
            assemble_report(
                layer.draft(verified, ev),
                ev,
                engine=engine_name,
                generated_at=when,
                feeds=feed_coverage(self.ctx, base.period, ev),
                stats=record_checks(Stats(), stats),
                considered=len(base.period.period),
            )
        )
        everything = base.period.evidence.items
        by_story = {s.id: s for s in ev.stories}
        dev_urls = [editorial.development_url(d, by_story, ev.items) for d in report.developments]
        excluded = {
            i: self._exclusion_reason(everything[i].url, layer.edits) for i in everything if i not in ev.items
        }
        seen = self.log.reviewed_through(start, end)
        new = {i for i in everything if seen is not None and i > seen}
        return DraftView(
            start,
            end,
            report,
            ev,
            layer.applied,
            state,
            layer.edits,
            dev_urls,
            new,
            excluded,
            everything,
            base.summary,
            base.fragments,
        )

    @staticmethod
    def _exclusion_reason(url: str, edits: list[Edit]) -> str:
        for e in edits:
            if isinstance(e.op, ExcludeItem) and e.op.url == url:
                return e.op.reason
        return "its story was excluded"

    @staticmethod
    def checker(ev: Evidence) -> editorial.Check:
        """The report's own verification, for one edited sentence: why it fails, or None."""
        return lambda sentence: why_unsupported(sentence, ev)

    def sources(self) -> list[dict[str, Any]]:
        """Every configured source with its health, as ``osint feeds`` shows it."""
        states = self.store.source_states()
        counts = dict(self.store.db.execute("SELECT source, COUNT(*) FROM items GROUP BY source").fetchall())
        rows = []
        for src in self.ctx.config.feeds.sources:
            st = states.get(src.name)
            rows.append(
                {
                    "name": src.name,
                    "url": src.url,
                    "kind": src.kind,
                    "language": src.language,
                    "reliability": src.reliability,
                    "status": "disabled" if not src.enabled else (st.status if st else "new"),
                    "last_error": st.last_error if st else None,
                    "failures": st.consecutive_failures if st else 0,
                    "last_success": st.last_success if st else None,
                    "item_count": counts.get(src.name, 0),
                }
            )
        return rows

    def periods(self) -> list[PeriodInfo]:
        """Weeks that hold items, periods under review and reports written, newest first."""
        zone = self.settings.zone()
        week_end = parse_weekday(self.settings.week_end)
        days: dict[date, int] = {}
        query, args = "SELECT published FROM items", []
        if self.ctx.config.desk is not None:  # a desk of a desks file: its own sources' items
            args = [s.name for s in self.ctx.config.feeds.sources]
            query += f" WHERE source IN ({', '.join('?' * len(args))})"
        for (published,) in self.store.db.execute(query, args):
            day = datetime.fromisoformat(published).astimezone(zone).date()
            days[day] = days.get(day, 0) + 1
        weeks = {week_containing(day, week_end) for day in days}
        files: dict[tuple[date, date], dict[str, int]] = {}
        for entry in scan_reports(self.settings.out):
            files[(entry.doc.period.start, entry.doc.period.end)] = entry.files
        keys = weeks | set(self.log.periods()) | set(files)

        def count(s: date, e: date) -> int:
            return sum(n for day, n in days.items() if s <= day <= e)

        return [
            PeriodInfo(s, e, count(s, e), self.log.state(s, e), files.get((s, e), {}))
            for s, e in sorted(keys, reverse=True)
        ]

    # ------------------------------------------------------------------ writing

    def add_edits(self, start: date, end: date, ops: list[Op], author: str) -> list[int]:
        """Check and record edits; text the sources do not support needs ``confirmed``."""
        view = self.draft(start, end)
        check = self.checker(view.evidence)
        known = {i.url for i in view.all_items.values()}
        for op in ops:
            for url in _urls_of(op):
                if url not in known:
                    raise ReviewError(f"{op.op}: {url} is not an item of {view.key}")
            why = self._unsupported(op, view, check)
            if why and not getattr(op, "confirmed", False):
                raise UnsupportedText(op, why)
        return self.log.add(start, end, ops, author)

    @staticmethod
    def _unsupported(op: Op, view: DraftView, check: editorial.Check) -> str | None:
        by_url = {i.url: i.id for i in view.evidence.items.values()}
        if isinstance(op, AddAssessment):
            ids = [by_url[u] for u in op.urls if u in by_url]
            return check(Sentence(text=op.text, item_ids=ids)) if ids else None
        if isinstance(op, RenameDevelopment):
            for dev, url in zip(view.report.developments, view.dev_urls, strict=True):
                if url == op.url:
                    return check(dev.title.model_copy(update={"text": op.title}))
            return None
        if isinstance(op, EditSentence):
            for s in _sentences(view.report):
                if s.text == op.original:
                    return check(s.reworded(op.text))
            raise ReviewError("edit_sentence: no sentence of the draft reads like that")
        return None

    def undo(self, start: date, end: date, edit_id: int, author: str) -> int:
        return self.log.undo(start, end, edit_id, author)

    def approve(self, start: date, end: date, editor: str) -> tuple[DraftView, list[Path], Any]:
        """Approve the draft as it stands: write every format and the archive, email it if mail is set."""
        from . import send as send_job
        from .report import rebuild_archive

        last = self.store.db.execute("SELECT COALESCE(MAX(id), 0) FROM items").fetchone()[0]
        self.log.approve(start, end, editor, int(last))
        view = self.draft(start, end)
        paths = write_reviewed(view, self.settings)
        paths += rebuild_archive(self.settings)
        outcome = None
        if self.settings.mail_configured():
            outcome = next(iter(send_job.send(self.ctx, [paths[0]])), None)
        return view, paths, outcome


def _keep_out_of_gc() -> None:
    """Move what the desk now keeps (a sorted week: tens of thousands of objects) out of the
    cyclic collector's sight, so an edit's round trip does not pay for a full collection
    walking it (measured: 0.2 s pauses on a 2,000-item week). What an earlier freeze kept
    and the desk has since let go is collected first."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class UnsupportedText(ReviewError):
    """Edited or added text whose names or numbers its cited items do not hold; confirm it."""

    def __init__(self, op: Op, why: str) -> None:
        super().__init__(f"{op.op}: {why}; confirm to keep it anyway")
        self.op = op
        self.why = why


def _urls_of(op: Op) -> list[str]:
    out = [getattr(op, name) for name in ("url", "into", "to") if isinstance(getattr(op, name, None), str)]
    return out + list(getattr(op, "urls", []))


def _sentences(report: Report) -> list[Sentence]:
    out = list(report.executive_summary_sentences)
    for d in report.developments:
        out += d.sentences
    for b in (*report.sections.geopolitical_blocks, *report.sections.military_blocks):
        out += b.sentences
    out += report.sections.outlook.flashpoints + report.sections.outlook.recommendations
    return out


def write_reviewed(view: DraftView, settings: Settings) -> list[Path]:
    """Every format of the reviewed report; the JSON, first in the list, is written last."""
    zone = settings.zone()
    rendered = {
        fmt: render(view.report, fmt, settings.templates_dir, zone) for fmt in ("html", "pdf", "md", "json")
    }
    paths = []
    for fmt, data in rendered.items():
        path = settings.out / report_filename(view.report, fmt)
        write_atomically(path, data)
        paths.append(path)
    return [paths[-1], *paths[:-1]]
