"""The report job: store -> classify -> cluster -> analyse -> verify -> assemble -> render -> files.

:func:`build_report` makes the :class:`~osint.models.Report` of an inclusive day range
from what is stored; :func:`write_report` renders every format first and then writes
them atomically (a failed render writes nothing); :func:`rebuild_archive` rewrites the
directory's ``index.html`` and ``feed.xml``. :func:`report` is ``osint report``: all three.

The editorial seam: an :class:`Editorial` given to :func:`build_report` sees the
period's evidence (the relevant items and the stories made of them) before any engine
does, and the assembled report after; the review desk's edits are applied there, so a
reviewed report is built by the same code as a draft.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from ..analyse import Evidence, ExtractiveEngine, VerifyStats, assemble_report, verify_draft
from ..analyse.assemble import source_coverage
from ..analyse.base import Engine
from ..archive import render_archive, scan_reports
from ..classify import Classifier
from ..cluster import build_stories
from ..errors import ConfigError, ReportError
from ..history import link_history
from ..models import Draft, FeedCoverage, Item, Report
from ..render import FORMATS, render
from ..settings import Settings
from ..stats import Stats
from .collect import classified, with_source_info
from .context import Config, RunContext
from .files import report_errors, write_atomically

log = logging.getLogger(__name__)

PREVIOUS_WEEKS = 4
"""How many weeks before the period are read for what is continuing or rising."""


class Editorial(Protocol):
    """An editorial layer over the draft (the review desk's edits, say).

    ``evidence`` is called before analysis with the period's relevant items and their
    stories, and returns the evidence the engine should write from (items dropped or
    re-graded, stories merged, split or re-ranked). ``report`` is called with the
    assembled, verified and numbered report and returns the one to render (the
    ``review`` block filled in). ``draft`` is called between them with the verified
    draft, before citations are numbered, so sentences the analyst edits or adds (with
    their citations) are numbered like any other.
    """

    last_item: int | None
    """An approved report covers the items stored up to its approval (None: every item)."""
    approved_at: datetime | None
    """When it was approved: the approved report's ``generated_at``, so a rebuild is the same."""

    def evidence(self, evidence: Evidence) -> Evidence: ...

    def draft(self, draft: Draft, evidence: Evidence) -> Draft: ...

    def report(self, report: Report) -> Report: ...


def _day_bounds(start: date, end: date, settings: Settings) -> tuple[datetime, datetime]:
    zone = settings.zone()
    return (
        datetime.combine(start, time(0), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone),
    )


def _engine(name: str, ctx: RunContext) -> Engine:
    if name == "extractive":
        return ExtractiveEngine()
    if name == "llm":
        from ..analyse.llm import LLMEngine  # its client and prompts load only when asked for

        return LLMEngine.from_settings(ctx.settings, cache=ctx.store, stats=ctx.stats)
    raise ConfigError(f"unknown engine {name!r}; available: extractive, llm")


@dataclass
class PeriodEvidence:
    """A period's sorted evidence before any engine: what classifying and clustering made."""

    evidence: Evidence
    period: list[Item]
    """Every item dated in the period, relevant or not."""


def period_evidence(
    ctx: RunContext,
    start: date,
    end: date,
    *,
    last_item: int | None = None,
    with_previous_report: bool = True,
) -> PeriodEvidence:
    """The period's relevant items and their stories (``last_item``: ignore items stored after it).

    The slow half of a report (classifying what is new, clustering); the review desk
    keeps it while the store does not change and writes drafts from it. The evidence
    carries the report of the period before (``with_previous_report``), so the engine can
    say what changed since.
    """
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}")
    config = ctx.config
    settings = ctx.settings
    store = ctx.store
    lo, hi = _day_bounds(start, end, settings)
    classifier = Classifier(config.profile)

    def stored(lo: datetime, hi: datetime) -> list[Item]:
        items = own_items(store.items_between(lo, hi), config)
        return [i for i in items if last_item is None or i.id <= last_item]

    period = classified(store, with_source_info(stored(lo, hi), config.feeds), classifier)
    before = classified(
        store,
        with_source_info(stored(lo - timedelta(weeks=PREVIOUS_WEEKS), lo), config.feeds),
        classifier,
    )
    relevant = [i for i in period if i.classification and i.classification.relevant]
    previous = [i for i in before if i.classification and i.classification.relevant]
    stories = link_history(build_stories(relevant, config.profile), {i.id: i for i in relevant}, previous)
    ev = Evidence(
        profile=config.profile,
        start=start,
        end=end,
        zone=settings.zone(),
        items={i.id: i for i in relevant},
        stories=stories,
        previous=previous,
        previous_weeks=PREVIOUS_WEEKS,
        previous_report=previous_report(ctx, start, end) if with_previous_report else None,
    )
    return PeriodEvidence(ev, period)


def previous_report(ctx: RunContext, start: date, end: date) -> Report | None:
    """The report of the period of the same length just before ``start``..``end``.

    As written to the report directory (what readers got, edits and all) when its JSON is
    there and reads as a report of this release; otherwise rebuilt from the store by the
    extractive engine (None when the store holds nothing relevant for that period).
    """
    days = (end - start).days + 1
    p_end = start - timedelta(days=1)
    p_start = p_end - timedelta(days=days - 1)
    path = ctx.settings.out / f"{ctx.config.profile.slug}-{p_start.isoformat()}_{p_end.isoformat()}.json"
    try:
        return Report.from_json(path.read_bytes())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        log.info("%s: not read as last period's report (%s); rebuilding it from the store", path, exc)
    pe = period_evidence(ctx, p_start, p_end, with_previous_report=False)
    ev = pe.evidence
    if not ev.items:
        return None
    draft, _checks = verify_draft(ExtractiveEngine().compose(ev), ev)
    return assemble_report(
        draft,
        ev,
        engine=ExtractiveEngine.name,
        generated_at=datetime.combine(p_end + timedelta(days=1), time(0), tzinfo=ev.zone),
        feeds=[],
        stats=Stats(),
        considered=len(pe.period),
    )


def feed_coverage(ctx: RunContext, pe: PeriodEvidence, ev: Evidence) -> list[FeedCoverage]:
    """Every source the store collected, with its health and how many of the report's items it gave."""
    config = ctx.config
    states = ctx.store.source_states()
    if config.desk is not None:
        # A desk's coverage is its own sources, whatever the other desks collect (a run of
        # another desk alone marks this desk's sources as not in the last collect).
        states = {
            s.name: states[s.name].model_copy(update={"configured": True})
            for s in config.feeds.sources
            if s.name in states
        }
    unknown = [src.name for src in config.feeds.sources if src.name not in states]
    if unknown:
        log.warning(
            "%s names %d source(s) this store has never collected (%s); the report covers what the "
            "store holds (run osint collect with that file to add them)",
            config.feeds_path,
            len(unknown),
            ", ".join(unknown),
        )
    return source_coverage(states, pe.period, ev.items.values())


def build_report(
    ctx: RunContext,
    start: date,
    end: date,
    *,
    engine: Engine | None = None,
    editorial: Editorial | None = None,
    now: datetime | None = None,
) -> Report:
    """The report for the inclusive day range ``start``..``end`` (days in OSINT_TIMEZONE).

    The engine is ``ctx.settings.engine`` unless an engine object is given (tests,
    embedding); ``editorial`` adjusts the evidence before analysis, the verified draft
    before citations are numbered, and the report after.

    The report is a function of the store: items are graded, and sources listed in the
    coverage section, by the configuration the store recorded when they were collected.
    The feeds file only names the country profile (and grades items stored before
    configurations were recorded).
    """
    pe = period_evidence(ctx, start, end, last_item=editorial.last_item if editorial else None)
    ev = editorial.evidence(pe.evidence) if editorial is not None else pe.evidence
    chosen = engine or _engine(ctx.settings.engine, ctx)
    draft, checks = verify_draft(chosen.compose(ev), ev)
    record_checks(ctx.stats, checks)
    if editorial is not None:
        draft = editorial.draft(draft, ev)
    report = assemble_report(
        draft,
        ev,
        engine=chosen.name,
        generated_at=(now or datetime.now(UTC)).astimezone(ctx.settings.zone()).replace(microsecond=0),
        feeds=feed_coverage(ctx, pe, ev),
        stats=ctx.stats,
        considered=len(pe.period),
    )
    return editorial.report(report) if editorial is not None else report


def own_items(items: list[Item], config: Config) -> list[Item]:
    """A desk's items: those of its own sources (one store holds every desk's). A single
    feeds file keeps every stored item, as it always has."""
    if config.desk is None:
        return items
    names = {s.name for s in config.feeds.sources}
    return [i for i in items if i.source in names]


def record_checks(stats: Stats, checks: VerifyStats) -> Stats:
    """A report's verification in ``stats`` (set, not added: a run builds one report).

    ``assemble_report`` reads the coverage section's checked and dropped counts from it.
    """
    stats.clear("verify")
    stats.set_value("verify/checked", checks.checked)
    stats.set_value("verify/dropped", checks.dropped)
    for reason, n in checks.by_reason.items():
        stats.set_value(f"verify/dropped/{reason}", n)
    for why in checks.reasons:
        log.info("sentence dropped: %s", why)
    return stats


def report_filename(report: Report, fmt: str) -> str:
    return f"{report.slug}-{report.period.start.isoformat()}_{report.period.end.isoformat()}.{fmt}"


def write_report(ctx: RunContext, report: Report, formats: Sequence[str]) -> list[Path]:
    """Render every requested format, then write them into ``OSINT_OUT``; a failed render writes nothing.

    Formats are written in the order given; the weekly job puts the JSON last, so the
    JSON on disk (what the archive and the email read) always belongs to a complete set.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    settings = ctx.settings
    out = settings.out
    with report_errors(out):
        zone = settings.zone()
        rendered = {f: render(report, f, settings.templates_dir, zone) for f in formats}
        paths = []
        for fmt, data in rendered.items():
            path = out / report_filename(report, fmt)
            write_atomically(path, data)
            paths.append(path)
    return paths


def rebuild_archive(
    settings: Settings, *, stats: Stats | None = None, now: datetime | None = None
) -> list[Path]:
    """Rewrite ``index.html`` and ``feed.xml`` in ``OSINT_OUT`` from the reports found there."""
    out = settings.out
    with report_errors(out):
        files = render_archive(
            scan_reports(out, stats),
            settings.templates_dir,
            settings.zone(),
            reports_url=settings.reports_url,
            now=now,
        )
        paths = []
        for name, data in files.items():
            path = out / name
            write_atomically(path, data)
            paths.append(path)
    return paths


def report(
    ctx: RunContext,
    start: date,
    end: date,
    formats: Sequence[str],
    *,
    editorial: Editorial | None = None,
) -> list[Path]:
    """``osint report``: build the period's report, write its formats, rebuild the archive.

    The review desk's edits of the period apply (the store's editorial layer), so the
    files match what the desk shows; an approved period is rebuilt as it was approved.
    """
    if editorial is None:
        from .review import reviewed

        editorial = reviewed(ctx, start, end)
    built = build_report(ctx, start, end, editorial=editorial, now=editorial.approved_at)
    return [*write_report(ctx, built, formats), *rebuild_archive(ctx.settings, stats=ctx.stats)]
