"""Exclusive file locks, so two processes never do the same job on one store at once.

``flock`` locks belong to the open file, so the kernel releases them when a process
dies, even by ``kill -9``: a crashed run never leaves a stale lock behind.

Two locks live beside a store: the *run* lock (``osint run``, ``osint send`` and the
scheduler: one delivery at a time) and the *collect* lock (one collection at a time,
whether started by ``osint collect`` or inside a weekly run).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Literal

from .errors import BusyError

LockName = Literal["run", "collect"]
_WHAT: dict[LockName, str] = {"run": "osint run or send", "collect": "collect on this database"}


def lock_path(db: Path, name: LockName) -> Path:
    """The lock file of ``name`` for the store at ``db`` (``osint.db.run.lock``)."""
    return db.with_name(f"{db.name}.{name}.lock")


def store_lock(db: Path, name: LockName) -> AbstractContextManager[None]:
    """Hold the store's ``name`` lock for the block (:class:`BusyError` if it is taken)."""
    return exclusive_lock(lock_path(db, name), _WHAT[name])


@contextmanager
def exclusive_lock(path: Path, what: str) -> Iterator[None]:
    """Hold ``path`` locked for the block; :class:`BusyError` at once if another process has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise BusyError(f"another {what} is running (pid {holder}; lock {path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
