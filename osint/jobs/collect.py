"""The collect job: every source fetched, new articles extracted, stored and classified.

Classification happens here, right after storing, so a report finds the decisions
already made and only a changed profile costs a re-classification.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..http import Fetcher, FetchLimits
from ..models import FeedsFile, Item, SourceConfig, SourceResult
from ..stats import Stats
from ..store import Store
from .context import Config, RunContext
from .gather import CollectOptions, ProgressHook, collect_sources

if TYPE_CHECKING:
    from ..classify import Classifier

log = logging.getLogger(__name__)


def collect(
    ctx: RunContext,
    *,
    limits: FetchLimits | None = None,
    options: CollectOptions | None = None,
    progress: ProgressHook | None = None,
    desks: Sequence[Config] | None = None,
) -> list[SourceResult]:
    """Fetch every source, extract new articles, store them; one result per source.

    With ``desks`` (a multi-desk run) the sources are all the desks' together, a source
    two desks share fetched once, and each desk's profile classifies its sources' items.
    """
    configs = list(desks) if desks else [ctx.config]  # a bad feeds file fails before the lock
    sources: list[SourceConfig] = []
    for config in configs:
        sources += [s for s in config.feeds.sources if s.url not in {known.url for known in sources}]
    settings = ctx.settings
    zone = settings.zone()
    policy = settings.network_policy()
    with ctx.lock("collect"), ctx.recorded("collect"):
        store = ctx.store
        classify = _Classification(store, configs, ctx.stats, per_desk=bool(desks))

        async def main() -> list[SourceResult]:
            lim = limits or FetchLimits(politeness_delay=settings.politeness_delay)
            async with Fetcher(policy, lim, settings.user_agent) as fetcher:
                return await collect_sources(
                    sources, store, fetcher, zone, options=options, progress=progress, stored=classify
                )

        results = asyncio.run(main())
        record_collection(ctx.stats, results)
        classify(None)  # what is left: items an earlier run stored and did not classify
        if classify.error is not None:
            stored = ctx.stats.count("collect/new_items")
            raise ConfigError(
                f"{classify.error} ({stored} new item(s) stored unclassified: the next collect"
                " classifies them once the profile is mended)"
            )
        return results


class _Classification:
    """Classifies stored, unclassified items: one source's as soon as they are stored
    (the main process is otherwise waiting for the extraction workers), or all.

    Each desk's profile classifies its own sources' items (a single desk: every
    unclassified item); a classifier is built once per run, and only when needed. A
    profile that does not load stops classification only: the other sources are still
    fetched and stored, and :attr:`error` says why nothing was classified.
    """

    def __init__(self, store: Store, configs: Sequence[Config], stats: Stats, *, per_desk: bool) -> None:
        self._store = store
        self._configs = configs
        self._stats = stats
        self._per_desk = per_desk
        self._classifiers: dict[int, Classifier] = {}
        self.error: ConfigError | None = None

    def __call__(self, source: str | None) -> None:
        if self.error is not None:
            return
        try:
            self._classify(source)
        except ConfigError as exc:  # the profile: read on first use
            log.info("classification stopped: %s", exc)  # the job raises it at its end
            self.error = exc

    def _classify(self, source: str | None) -> None:
        unclassified = self._store.unclassified_items(source)
        for n, config in enumerate(self._configs):
            names = {s.name for s in config.feeds.sources}
            own = [i for i in unclassified if i.source in names] if self._per_desk else unclassified
            fresh = with_source_info(own, config.feeds)
            if fresh:
                if n not in self._classifiers:
                    from ..classify import Classifier  # only a run that stored something classifies

                    self._classifiers[n] = Classifier(config.profile)
                classified(self._store, fresh, self._classifiers[n])
                self._stats.inc_value("collect/classified", len(fresh))


def record_collection(stats: Stats, results: Sequence[SourceResult]) -> None:
    """What a collect did, in the run's stats: the CLI's summary and ``runs.stats`` read it."""
    stats.inc_value("collect/sources", len(results))
    for r in results:
        stats.inc_value("collect/new_items", r.new_items)
        stats.inc_value("collect/known_items", r.seen_items)
        stats.inc_value("collect/item_errors", len(r.item_errors))
        stats.inc_value("collect/warnings", len(r.warnings))
        if r.error:
            stats.inc_value("collect/sources/failed")
        elif r.skipped:
            stats.inc_value("collect/sources/skipped")
        else:
            stats.inc_value("collect/sources/not_modified" if r.not_modified else "collect/sources/ok")
    stats.set_value("collect/failed_sources", [r.name for r in results if r.error])


def with_source_info(items: Sequence[Item], feeds: FeedsFile) -> list[Item]:
    """Items with their source's grade and country.

    Items carry the configuration their source had when they were collected (the
    store records it); only an item stored before that was recorded, and not seen by
    a collect since, takes it from ``feeds`` (F when the source is not listed there).
    """
    by_name = {s.name: s for s in feeds.sources}
    out = []
    for item in items:
        if item.source_recorded:
            out.append(item)
            continue
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


def classified(store: Store, items: list[Item], classifier: Classifier) -> list[Item]:
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
