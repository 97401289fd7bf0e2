"""Sources -> stored items: fetch each feed or listing page, then each new article page.

The collect job's chain of stages for one source: the fetcher (a toolkit), the feed
parser, extraction in worker processes, the feed-versus-page weighing and the store.

A failure costs only what failed: a broken source is recorded with its cause (and
backed off after repeated failures) while the others go on; a broken article page
falls back to the feed's summary, and the reason is stored with the item. Network
waits overlap on the event loop; extraction runs in worker processes so it uses the
other core and a page that makes trafilatura spin can be stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..errors import ExtractError, FeedError, FetchError, WorkerError
from ..http import Fetcher
from ..models import Article, Entry, SourceConfig, SourceResult
from ..parse import parse_feed_document, parse_listing, usable_entries
from ..store import Store
from ..workers import WorkerPool

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass
class CollectOptions:
    extraction_timeout: float = 30.0
    max_new_per_source: int = 200
    source_concurrency: int = 64
    backoff_after: int = 3


ProgressHook = Callable[[str, int], None]
"""Called with ("total", n) when work is discovered and ("advance", n) when it is done."""
StoredHook = Callable[[str], None]
"""Called with a source's name as soon as its new items are stored (the collect job
classifies them then, while other sources' pages are still being extracted)."""


class ExtractorPool:
    """Extraction in worker processes (:mod:`osint.workers`), each page with a time limit.

    ``fn`` is what the workers run (default: :func:`osint.extract.extract_in_worker`); a
    parameter so a test can hand the pool a page that truly hangs a worker. The pool, and
    the extraction modules, are set up at the first page: a run whose feeds bring nothing
    new never imports them.
    """

    def __init__(
        self, workers: int, timeout: float, fn: Callable[[bytes, str, str], Article] | None = None
    ) -> None:
        self._workers = workers
        self._timeout = timeout
        self._fn = fn
        self._pool: WorkerPool[Article] | None = None

    async def extract(self, html: bytes, url: str, zone: ZoneInfo) -> Article:
        """The page's article; :class:`ExtractError` when the worker runs out of time or dies."""
        if self._pool is None:
            from ..extract import extract_in_worker, warm_up

            fn = self._fn or extract_in_worker
            self._pool = WorkerPool(fn, workers=self._workers, timeout=self._timeout, warm_up=warm_up)
        try:
            return await self._pool.run(html, url, zone.key)
        except WorkerError as exc:
            raise ExtractError(f"extraction {exc}") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def _backoff(failures: int, after: int) -> datetime | None:
    if failures + 1 < after:
        return None
    hours = min(24.0, 2.0 ** (failures + 1 - after))
    return datetime.now(UTC) + timedelta(hours=hours)


async def _article_for(entry: Entry, fetcher: Fetcher, extractor: ExtractorPool, zone: ZoneInfo) -> Article:
    from ..extract import article_from_entry  # here: a run with no new entry never loads them
    from ..pagemeta import reconcile

    try:
        page = await fetcher.fetch(entry.url, accept=PAGE_ACCEPT)
        if page.content_type and "html" not in page.content_type:
            raise ExtractError(f"not an HTML page ({page.content_type})")
        return reconcile(entry, await extractor.extract(page.body, page.final_url, zone))
    except (FetchError, ExtractError) as exc:
        reason = str(exc)
        log.info("page unusable, falling back to feed summary: %s", reason)
        return article_from_entry(entry, reason)


async def _collect_one(
    src: SourceConfig,
    store: Store,
    fetcher: Fetcher,
    extractor: ExtractorPool,
    zone: ZoneInfo,
    opts: CollectOptions,
    progress: ProgressHook,
    stored: StoredHook,
) -> SourceResult:
    result = SourceResult(name=src.name)
    if not src.enabled:
        result.skipped = "disabled in feeds.yaml"
        return result
    state = store.source_state(src.name)
    now = datetime.now(UTC)
    if state and state.backoff_until and state.backoff_until > now:
        result.skipped = f"backing off until {state.backoff_until:%Y-%m-%d %H:%M} UTC"
        return result
    failures = state.consecutive_failures if state else 0
    try:
        resp = await fetcher.fetch(
            src.url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            accept=FEED_ACCEPT if src.kind == "feed" else PAGE_ACCEPT,
        )
        if resp.not_modified:
            store.record_success(src.name, [], etag=None, last_modified=None, not_modified=True)
            result.not_modified = True
            return result
        if src.kind == "feed":
            doc = parse_feed_document(
                resp.body,
                source=src.name,
                final_url=resp.final_url,
                content_type=resp.content_type,
                charset=resp.charset,
            )
            entries, unlinked = usable_entries(doc, src.name)
            result.warnings.extend(f"feed: {p}" for p in doc.problems)
            if unlinked:
                result.warnings.append(f"{unlinked} entries without an http(s) link were skipped")
        else:
            entries = parse_listing(
                resp.body,
                source=src.name,
                final_url=resp.final_url,
                link_pattern=src.link_pattern,
            )
    except (FetchError, FeedError) as exc:
        message = str(exc)
        store.record_failure(src.name, message, _backoff(failures, opts.backoff_after))
        result.error = message
        return result

    known = store.known_urls([e.url for e in entries])
    fresh = [e for e in entries if e.url not in known][: opts.max_new_per_source]
    result.seen_items = len(entries) - len(fresh)
    progress("total", len(fresh))

    async def one(entry: Entry) -> tuple[Entry, Article] | None:
        try:
            return entry, await _article_for(entry, fetcher, extractor, zone)
        except ExtractError as exc:
            result.item_errors.append(f"{entry.url}: {exc}")
            return None
        finally:
            progress("advance", 1)

    pairs = [p for p in await asyncio.gather(*(one(e) for e in fresh)) if p is not None]
    result.new_items = store.record_success(
        src.name,
        pairs,
        etag=resp.headers.get("etag"),
        last_modified=resp.headers.get("last-modified"),
    )
    if result.new_items:
        stored(src.name)
    return result


async def collect_sources(
    sources: Sequence[SourceConfig],
    store: Store,
    fetcher: Fetcher,
    zone: ZoneInfo,
    *,
    options: CollectOptions | None = None,
    progress: ProgressHook | None = None,
    stored: StoredHook | None = None,
    workers: int = 2,
) -> list[SourceResult]:
    """Collect every source once; one :class:`SourceResult` per source, in config order."""
    opts = options or CollectOptions()
    hook: ProgressHook = progress or (lambda _kind, _n: None)
    on_stored: StoredHook = stored or (lambda _name: None)
    store.sync_sources(sources)
    extractor = ExtractorPool(workers, opts.extraction_timeout)
    gate = asyncio.Semaphore(opts.source_concurrency)

    async def guarded(src: SourceConfig) -> SourceResult:
        async with gate:
            return await _collect_one(src, store, fetcher, extractor, zone, opts, hook, on_stored)

    try:
        return list(await asyncio.gather(*(guarded(s) for s in sources)))
    finally:
        extractor.close()
