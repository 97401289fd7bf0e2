"""The review desk's tables, as named migrations the store applies (see :mod:`osint.review`).

Apart from the code that uses them so that opening the store loads nothing of the desk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _m_review(db: sqlite3.Connection) -> None:
    """The desk's tables: edits (with undos) and approvals per period, users, secrets."""
    for statement in (
        """CREATE TABLE IF NOT EXISTS edits (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            op TEXT NOT NULL,
            payload TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS edits_period ON edits(period_start, period_end)",
        """CREATE TABLE IF NOT EXISTS approvals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            approved_at TEXT NOT NULL,
            revision INTEGER NOT NULL,
            last_item INTEGER NOT NULL,
            changes INTEGER NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT,
            token_hash TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE TABLE IF NOT EXISTS desk_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ):
        db.execute(statement)


def _m_review_last_item(db: sqlite3.Connection) -> None:
    """Each edit remembers the newest item stored when it was made: what came later is "new"."""
    db.execute("ALTER TABLE edits ADD COLUMN last_item INTEGER")


def _m_review_desk(db: sqlite3.Connection) -> None:
    """Edits and approvals belong to a desk of a desks file ('' for an installation without
    one): two desks review the same week apart, over one store."""
    for table in ("edits", "approvals"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN desk TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX IF NOT EXISTS edits_desk_period ON edits(desk, period_start, period_end)")


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("review", _m_review),
    ("review_last_item", _m_review_last_item),
    ("review_desk", _m_review_desk),
]
"""Named migrations the store applies (registered in :mod:`osint.store`)."""
