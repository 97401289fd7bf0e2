"""The store's own job: which named migrations a store has had (``osint db status``).

Read without migrating, so the command shows what the next run would apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..settings import Settings
from ..store import MIGRATIONS, Store


@dataclass(frozen=True)
class MigrationState:
    name: str
    status: Literal["applied", "pending", "unknown"]
    """``unknown``: applied by a newer release than this one."""
    applied_at: datetime | None


def migration_status(settings: Settings) -> list[MigrationState]:
    """This release's migrations in order, applied or pending, then any others the store has had."""
    with Store.open(settings.db, migrate=False) as store:
        applied = store.applied()
    known = [name for name, _ in MIGRATIONS]
    states = [MigrationState(n, "applied" if n in applied else "pending", applied.get(n)) for n in known]
    states += [MigrationState(n, "unknown", when) for n, when in applied.items() if n not in set(known)]
    return states
