"""The run context: what every job needs, built once per run.

One :class:`RunContext` per command (or per scheduled run): its settings already hold
the CLI's overrides (:meth:`Settings.with_overrides`), the feeds file and country profile
are read the first time they are asked for and kept, the store is opened (and migrated)
once on first use and closed when the context ends, and :meth:`RunContext.recorded`
writes the run's row in ``runs`` with the run's one :class:`~osint.stats.Stats` record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType

from ..locks import LockName, store_lock
from ..models import CountryProfile, FeedsFile
from ..settings import Settings, load_feeds, load_profile, profile_path
from ..stats import Stats
from ..store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """The feeds file, as loaded for this run, and the country profile it names.

    The profile is read and validated the first time it is asked for: only classifying
    and reporting need it, and a collect that finds nothing new (most runs) would spend
    a tenth of its time on it. A bad profile is then a :class:`~osint.errors.ConfigError`
    of the job that needs it, named for its file.
    """

    feeds_path: Path
    feeds: FeedsFile
    profile_file: Path
    desk: str | None = None
    """The desk this configuration is, in a multi-desk installation: its reports then read
    only its own sources' items (the store holds every desk's)."""

    @cached_property
    def profile(self) -> CountryProfile:
        """The country profile (read once, on first use)."""
        return load_profile(self.profile_file)


def load_config(feeds_path: Path) -> Config:
    feeds = load_feeds(feeds_path)
    return Config(feeds_path, feeds, profile_path(feeds_path, feeds))


class RunContext:
    """Settings, configuration, store, locks, run record and stats of one run.

    Use as a context manager; the store is closed at the end. Nothing is read or opened
    before a job asks for it, so ``osint send --dry-run`` opens no store and a bad feeds
    file fails only the jobs that need it.
    """

    def __init__(self, settings: Settings, *, stats: Stats | None = None) -> None:
        self.settings = settings
        self.stats = stats or Stats()
        self._store: Store | None = None
        self._owns_store = True
        self.store_opens = 0
        """How many times this context opened the store (once at most; for the benchmarks)."""

    def __enter__(self) -> RunContext:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._store is not None and self._owns_store:
            self._store.close()
        self._store = None

    def for_desk(self, settings: Settings, config: Config) -> RunContext:
        """A context for one desk of a multi-desk run: the desk's settings (out, zone,
        recipients) and configuration, over this context's store, which stays this
        context's to close. Its stats are its own, so each desk's run says what it did."""
        child = RunContext(settings)
        child._store = self.store
        child._owns_store = False
        child.__dict__["config"] = config  # the cached_property, filled
        return child

    @cached_property
    def config(self) -> Config:
        """The feeds file and country profile (read once, on first use)."""
        return load_config(self.settings.feeds)

    @property
    def store(self) -> Store:
        """The store, opened and migrated on first use, then kept open for the run."""
        if self._store is None:
            self._store = Store.open(self.settings.db)
            self.store_opens += 1
        return self._store

    def lock(self, name: LockName) -> AbstractContextManager[None]:
        """The store's ``run`` or ``collect`` lock (:class:`~osint.errors.BusyError` when taken)."""
        return store_lock(self.settings.db, name)

    @contextmanager
    def recorded(self, kind: str) -> Iterator[RunRecord]:
        """A row in ``runs`` for the block: ``running``, then its status and the run's stats.

        The status is ``failed`` when the block raises, else ``record.status`` (``done``
        unless the block set another, such as ``not-sent``).
        """
        store = self.store
        record = RunRecord(store.start_run(kind))
        try:
            yield record
        except BaseException:
            store.finish_run(record.id, "failed", self.stats.get_stats())
            raise
        store.finish_run(record.id, record.status, self.stats.get_stats())


@dataclass
class RunRecord:
    """The row of ``runs`` a job is writing; ``status`` is what it will finish with."""

    id: int
    status: str = "done"
