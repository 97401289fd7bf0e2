"""Worker processes with a time limit per task. A toolkit: it knows no stage.

A hostile page must not hang the run, and extraction is most of a collect's CPU, so the
collect job runs it here, on the other core. The workers are started with ``spawn`` and
import only this module, the module of the function they run and what those need (not
the fetcher, the feed parser or the store), so a worker is ready sooner.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import pebble

from .errors import WorkerError

T = TypeVar("T")


def _start_worker(parent: int, warm_up: Callable[[], None] | None) -> None:
    """Worker start-up, before any task's clock starts: ``warm_up`` (imports that are
    paid here, not by the first task), and leave when the parent dies, even by
    ``kill -9`` (an idle worker would wait forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
    if warm_up is not None:
        warm_up()


class WorkerPool(Generic[T]):
    """Processes that run ``fn``; a task over its time limit costs its worker, not the run.

    pebble's process pool does the hard part: each task's clock starts when a worker
    takes it, a worker over its limit is killed and replaced, and the other tasks in
    flight are untouched. ``fn`` and ``warm_up`` must be module-level functions (they
    are pickled by name into the workers).
    """

    def __init__(
        self,
        fn: Callable[..., T],
        *,
        workers: int,
        timeout: float,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        self._fn = fn
        self._workers = workers
        self.timeout = timeout
        self._warm_up = warm_up
        self._pool: pebble.ProcessPool | None = None

    def _started(self) -> pebble.ProcessPool:
        """The pool, made at the first task : a run with nothing to do starts no worker."""
        if self._pool is None:
            import pebble  # 20 ms: only a run with work for the workers pays it

            self._pool = pebble.ProcessPool(
                max_workers=self._workers,
                initializer=_start_worker,
                initargs=(os.getpid(), self._warm_up),
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def run(self, *args: object) -> T:
        """``fn(*args)`` in a worker; :class:`WorkerError` when it runs out of time or kills its worker."""
        import pebble

        future = self._started().schedule(self._fn, args, timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            raise WorkerError(f"took longer than {self.timeout:g} s and was stopped") from None
        except pebble.ProcessExpired as exc:
            raise WorkerError(f"worker crashed (exit code {exc.exitcode})") from None

    def close(self) -> None:
        """Stop the workers (each has finished its tasks by now) and wait for them."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
            self._pool.join()
