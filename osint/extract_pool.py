"""Extraction in worker processes, each page with a time limit. Light on purpose.

A hostile page must not hang the run, and extraction is most of a collect's CPU, so it
runs in worker processes on the other core. The workers are started with ``spawn`` and
import only this module, :mod:`osint.extract` and what those need (not the fetcher, the
feed parser or the store), so a worker is ready sooner.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .errors import ExtractError
from .extract import extract_article
from .models import Article

if TYPE_CHECKING:
    import pebble


def extract_in_worker(html: bytes, url: str, zone_key: str) -> Article:
    """What a worker process runs (module level, so it pickles)."""
    return extract_article(html, url, ZoneInfo(zone_key))


WorkerFn = Callable[[bytes, str, str], Article]


def _start_worker(parent: int) -> None:
    """Worker start-up, before any page's clock starts: import trafilatura, and leave
    when the collector dies, even by ``kill -9`` (an idle worker would wait forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
    import trafilatura  # noqa: F401  (0.2 s or more: paid here, not by the first page)


class ExtractorPool:
    """Worker processes for extraction; a page over its time limit costs its worker, not the run.

    pebble's process pool does the hard part: each task's clock starts when a worker
    takes it, a worker over its limit is killed and replaced, and the other tasks in
    flight are untouched. ``fn`` is the function the workers run; it is a parameter so
    a test can hand the pool a page that truly hangs a worker.
    """

    def __init__(self, workers: int, timeout: float, fn: WorkerFn = extract_in_worker) -> None:
        self._workers = workers
        self._timeout = timeout
        self._fn = fn
        self._pool: pebble.ProcessPool | None = None

    def _started(self) -> pebble.ProcessPool:
        """The pool, made at the first page: a run with nothing new starts no worker."""
        if self._pool is None:
            import pebble  # 20 ms: only a run with pages to extract pays it

            self._pool = pebble.ProcessPool(
                max_workers=self._workers,
                initializer=_start_worker,
                initargs=(os.getpid(),),
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def extract(self, html: bytes, url: str, zone: ZoneInfo) -> Article:
        import pebble

        future = self._started().schedule(self._fn, (html, url, zone.key), timeout=self._timeout)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            raise ExtractError(f"extraction took longer than {self._timeout:g} s and was stopped") from None
        except pebble.ProcessExpired as exc:
            raise ExtractError(f"extraction worker crashed (exit code {exc.exitcode})") from None

    def close(self) -> None:
        """Stop the workers (each has finished its pages by now) and wait for them."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
            self._pool.join()
