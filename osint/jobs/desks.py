"""Several desks from one installation: each country's weekly report from its own sources, one store.

A desks file (``OSINT_DESKS`` or ``--desks``) names, per desk, its feeds file (which names
the country profile, unless the desk names its own), its output directory, time zone,
recipients and schedule. ``osint run`` then runs every desk (or ``--desk NAME``) as one
run: under one lock, the desks' sources are collected together — a source two desks
share is fetched once, and each desk's profile sorts its sources' items — then each desk
gets its week's report, built from its own sources only, written into its own directory
with its own archive and Atom feed, and emailed to its own recipients. A desk whose
report fails costs that desk, not the others. Nothing here knows any country: a new desk
is a new entry in the desks file.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import BusyError, ConfigError, OsintError
from ..models import SourceResult
from ..settings import Settings, load_desks, load_feeds, profile_path
from .collect import collect
from .context import Config, RunContext
from .gather import ProgressHook
from .weekly import RUN_KIND, Step, WeeklyOutcome, mail_wanted, publish_week, report_period

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desk:
    """One desk, ready to run: its settings (out, zone, recipients, schedule) and configuration."""

    name: str
    settings: Settings
    config: Config


def load_desk_list(settings: Settings, only: str | None = None) -> list[Desk]:
    """The desks of ``settings.desks`` (all, or the one named ``only``), every file loaded and checked.

    Paths in the desks file are relative to it. A desk's time zone is its own
    ``timezone``, else its profile's; its recipients and schedule, else the settings'.
    """
    path = settings.desks
    if path is None:
        raise ConfigError("no desks file: set OSINT_DESKS or give --desks")
    base = path.parent
    desks = []
    for entry in load_desks(path).desks:
        try:
            feeds_path = base / entry.feeds
            feeds = load_feeds(feeds_path)
            config = Config(
                feeds_path,
                feeds,
                base / entry.profile if entry.profile else profile_path(feeds_path, feeds),
                desk=entry.name,
            )
            profile = config.profile  # every desk's profile is checked before any desk runs
            overrides: dict[str, object] = {
                "feeds": feeds_path,
                "out": base / entry.out,
                "timezone": entry.timezone or profile.timezone,
                "mail_to": ",".join(entry.mail_to) if entry.mail_to is not None else None,
                "schedule": entry.schedule,
            }
            desk_settings = settings.with_overrides(**overrides)
            desk_settings.zone()  # an unknown zone is a configuration error now, not mid-run
        except ConfigError as exc:
            raise ConfigError(f"desk {entry.name} ({path}): {exc}") from exc
        desks.append(Desk(entry.name, desk_settings, config))
    check_shared_sources(path, desks)
    if only is None:
        return desks
    chosen = [d for d in desks if d.name == only]
    if not chosen:
        raise ConfigError(f"no desk {only!r} in {path} (there are: {', '.join(d.name for d in desks)})")
    return chosen


def check_shared_sources(path: Path, desks: Sequence[Desk]) -> None:
    """A source two desks share must be one source: the same name for the same URL, the
    same URL for the same name, and the same entry (kind, link pattern, language, grade,
    country). The store keeps one state per source name, one item per URL and the
    configuration each item was collected under, so anything else would mix them up."""
    by_url: dict[str, dict[str, str]] = defaultdict(dict)
    by_name: dict[str, set[str]] = defaultdict(set)
    for desk in desks:
        for src in desk.config.feeds.sources:
            by_url[src.url][src.model_dump_json()] = src.name
            by_name[src.name].add(src.url)
    problems = [
        f"{url} is configured differently by two desks ({', '.join(sorted(set(ways.values())))})"
        for url, ways in by_url.items()
        if len(ways) > 1
    ] + [
        f"source {name!r} has two URLs ({', '.join(sorted(urls))})"
        for name, urls in by_name.items()
        if len(urls) > 1
    ]
    if problems:
        raise ConfigError(f"desks file {path}: " + "; ".join(problems))


@dataclass
class DeskOutcome:
    """What one desk's part of the run did: its week's outcome, or why its report failed."""

    desk: str
    weekly: WeeklyOutcome
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None and self.weekly.delivered


@dataclass
class DesksOutcome:
    """A multi-desk run: what was collected (once, for all desks) and each desk's outcome."""

    collected: list[SourceResult] = field(default_factory=list)
    desks: list[DeskOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [d.desk for d in self.desks if d.error is not None]


def _prefixed(step: Step, desk: str) -> Step:
    """The step hook with each step named for its desk ("kazakhstan: writing")."""
    return lambda name: step(f"{desk}: {name}")


def run_desks(
    ctx: RunContext,
    desks: Sequence[Desk],
    *,
    week_of: date | None = None,
    today: date | None = None,
    email: bool = True,
    force: bool = False,
    dry_run: bool = False,
    progress: ProgressHook | None = None,
    on_step: Step | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DesksOutcome:
    """Collect every desk's sources once, then build, write, archive and email each desk's week.

    ``ctx`` holds the shared store (its ``settings.db``) and the run's lock and record;
    each desk's report runs in :meth:`RunContext.for_desk`. Raises (nothing done) on bad
    configuration, bad mail settings or a busy lock; a desk whose report fails is in the
    outcome with its error and the other desks still get theirs.
    """
    step = on_step or (lambda name: None)
    plans = [
        (
            desk,
            report_period(desk.settings, week_of=week_of, today=today),
            mail_wanted(desk.settings, email=email, dry_run=dry_run),
        )
        for desk in desks
    ]
    with ctx.lock("run"), ctx.recorded(RUN_KIND) as record:
        outcome = DesksOutcome()
        step("collecting")
        outcome.collected = collect(ctx, progress=progress, desks=[d.config for d in desks])
        per_desk: dict[str, object] = {}
        for desk, period, mail in plans:
            names = {s.name for s in desk.config.feeds.sources}
            weekly = WeeklyOutcome(period, collected=[r for r in outcome.collected if r.name in names])
            desk_ctx = ctx.for_desk(desk.settings, desk.config)
            error = None
            try:
                publish_week(
                    desk_ctx,
                    weekly,
                    email=email,
                    mail=mail,
                    force=force,
                    dry_run=dry_run,
                    sleep=sleep,
                    step=_prefixed(step, desk.name),
                )
            except BusyError:
                raise
            except OsintError as exc:
                log.error("desk %s: report not built: %s", desk.name, exc)
                error = str(exc)
            outcome.desks.append(DeskOutcome(desk.name, weekly, error))
            per_desk[desk.name] = {**desk_ctx.stats.get_stats(), "error": error}
        ctx.stats.set_value("desks", per_desk)
        if outcome.failed:
            record.status = "failed" if len(outcome.failed) == len(plans) else "partial"
        else:
            record.status = "done" if all(d.delivered for d in outcome.desks) else "not-sent"
        return outcome
