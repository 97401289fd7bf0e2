"""Chains the stages: collect -> extract -> store, and store -> classify -> cluster -> analyse -> render.

The only module that knows every stage. It loads configuration, opens the store,
records runs, and writes output files atomically (temporary file, then ``os.replace``)
so a reader never sees half a report and a failed rebuild keeps the previous one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .analyse import Evidence, ExtractiveEngine, assemble_report, verify_draft
from .analyse.base import Engine
from .classify import Classifier
from .cluster import build_stories
from .collect import CollectOptions, ProgressHook, collect_sources
from .errors import ConfigError, ReportError
from .history import link_history
from .http import Fetcher, FetchLimits
from .locks import exclusive_lock
from .models import (
    CountryProfile,
    FeedCoverage,
    FeedsFile,
    Item,
    Report,
    SourceResult,
)
from .render import FORMATS, render
from .settings import NetworkPolicy, Settings, load_feeds, load_profile, profile_path
from .store import Store

log = logging.getLogger(__name__)

PREVIOUS_WEEKS = 4


@dataclass
class Config:
    feeds_path: Path
    feeds: FeedsFile
    profile: CountryProfile


def load_config(feeds_path: Path) -> Config:
    feeds = load_feeds(feeds_path)
    profile = load_profile(profile_path(feeds_path, feeds))
    return Config(feeds_path, feeds, profile)


def collect(
    settings: Settings,
    *,
    feeds_path: Path | None = None,
    db_path: Path | None = None,
    limits: FetchLimits | None = None,
    options: CollectOptions | None = None,
    progress: ProgressHook | None = None,
) -> list[SourceResult]:
    """Fetch every source, extract new articles, store them; one result per source."""
    config = load_config(feeds_path or settings.feeds)
    zone = settings.zone()
    policy = settings.network_policy()
    db = db_path or settings.db
    with exclusive_lock(db.with_name(db.name + ".collect.lock"), "collect on this database"):
        return _collect_locked(config, settings, db, zone, policy, limits, options, progress)


def _collect_locked(
    config: Config,
    settings: Settings,
    db: Path,
    zone: ZoneInfo,
    policy: NetworkPolicy,
    limits: FetchLimits | None,
    options: CollectOptions | None,
    progress: ProgressHook | None,
) -> list[SourceResult]:
    store = Store.open(db)
    run_id = store.start_run("collect")
    try:

        async def main() -> list[SourceResult]:
            lim = limits or FetchLimits(politeness_delay=settings.politeness_delay)
            async with Fetcher(policy, lim, settings.user_agent) as fetcher:
                return await collect_sources(
                    config.feeds.sources, store, fetcher, zone, options=options, progress=progress
                )

        results = asyncio.run(main())
        # Classify what was just stored, so a report finds the decisions already made.
        fresh = _with_source_info(store.unclassified_items(), config.feeds)
        if fresh:
            _classified(store, fresh, Classifier(config.profile))
        stats = {
            "sources": len(results),
            "new_items": sum(r.new_items for r in results),
            "failed": [r.name for r in results if r.error],
        }
        store.finish_run(run_id, "done", stats)
        return results
    except BaseException:
        store.finish_run(run_id, "failed", {})
        raise
    finally:
        store.close()


def _day_bounds(start: date, end: date, settings: Settings) -> tuple[datetime, datetime]:
    zone = settings.zone()
    return (
        datetime.combine(start, time(0), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone),
    )


def _with_source_info(items: Sequence[Item], feeds: FeedsFile) -> list[Item]:
    by_name = {s.name: s for s in feeds.sources}
    out = []
    for item in items:
        src = by_name.get(item.source)
        out.append(
            item.model_copy(
                update={
                    "reliability": src.reliability if src else "F",
                    "source_country": src.country if src else None,
                }
            )
        )
    return out


def _classified(store: Store, items: list[Item], classifier: Classifier) -> list[Item]:
    """Items with their classification: the stored one while the profile is unchanged."""
    results = []
    out = []
    for item in items:
        fingerprint = classifier.fingerprint(item.source_country)
        if item.classification is not None and item.classified_with == fingerprint:
            out.append(item)
            continue
        c = classifier.classify(item.title, item.text, item.source_country)
        results.append((item.id, c, fingerprint))
        out.append(item.model_copy(update={"classification": c, "classified_with": fingerprint}))
    if results:
        store.save_classifications(results)
    return out


def _engine(name: str, settings: Settings, store: Store) -> Engine:
    if name == "extractive":
        return ExtractiveEngine()
    if name == "llm":
        from .analyse.llm import LLMEngine  # its client and prompts load only when asked for

        return LLMEngine.from_settings(settings, cache=store)
    raise ConfigError(f"unknown engine {name!r}; available: extractive, llm")


def build_report(
    settings: Settings,
    start: date,
    end: date,
    *,
    engine: str | Engine = "extractive",
    feeds_path: Path | None = None,
    db_path: Path | None = None,
    now: datetime | None = None,
) -> Report:
    """The report for the inclusive day range ``start``..``end`` (days in OSINT_TIMEZONE).

    ``engine`` is a name (built from settings) or an engine object (tests, embedding).
    """
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}")
    config = load_config(feeds_path or settings.feeds)
    zone = settings.zone()
    store = Store.open(db_path or settings.db)
    try:
        lo, hi = _day_bounds(start, end, settings)
        classifier = Classifier(config.profile)
        period = _classified(store, _with_source_info(store.items_between(lo, hi), config.feeds), classifier)
        before = _classified(
            store,
            _with_source_info(store.items_between(lo - timedelta(weeks=PREVIOUS_WEEKS), lo), config.feeds),
            classifier,
        )
        relevant = [i for i in period if i.classification and i.classification.relevant]
        previous = [i for i in before if i.classification and i.classification.relevant]
        stories = link_history(build_stories(relevant), {i.id: i for i in relevant}, previous)
        ev = Evidence(
            profile=config.profile,
            start=start,
            end=end,
            zone=zone,
            items={i.id: i for i in relevant},
            stories=stories,
            previous=previous,
            previous_weeks=PREVIOUS_WEEKS,
        )
        chosen = _engine(engine, settings, store) if isinstance(engine, str) else engine
        draft, stats = verify_draft(chosen.compose(ev), ev)
        per_source = Counter(i.source for i in relevant)
        states = store.source_states()
        feeds = []
        for src in config.feeds.sources:
            state = states.get(src.name)
            status = "disabled" if not src.enabled else (state.status if state else "new")
            feeds.append(
                FeedCoverage(
                    name=src.name,
                    url=src.url,
                    status=status,
                    last_error=state.last_error if state else None,
                    items=per_source[src.name],
                )
            )
        return assemble_report(
            draft,
            ev,
            engine=chosen.name,
            generated_at=now or datetime.now(UTC),
            feeds=feeds,
            stats=stats,
            considered=len(period),
        )
    finally:
        store.close()


def report_filename(report: Report, fmt: str) -> str:
    return f"{report.slug}-{report.period_start.isoformat()}_{report.period_end.isoformat()}.{fmt}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` so ``path`` is either the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: Report, settings: Settings, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Render every requested format first, then write them; a failed render writes nothing."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    zone = settings.zone()
    rendered = {f: render(report, f, settings.templates_dir, zone) for f in formats}
    paths = []
    for fmt, data in rendered.items():
        path = out_dir / report_filename(report, fmt)
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        paths.append(path)
    return paths
