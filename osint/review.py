"""The review record in the store: the editorial layer's edits, undos and approvals, per period.

Rows are only ever added. An undo is a row of its own naming the edit it takes back, so
the audit trail is the table read in order, and a period's revision is simply its
highest row id: an approval remembers the revision (and the newest item) it approved,
and any later edit or undo turns the period back into a draft.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from pydantic import ValidationError

from .edits import Edit, Op, parse_op
from .errors import ReviewError

UNDO = "undo"


class Database(Protocol):
    """What the review record needs of the store (:class:`osint.store.Store` is one): its
    connection and a write transaction. Named here so this stage imports no other."""

    @property
    def db(self) -> sqlite3.Connection: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Approval:
    approved_by: str
    approved_at: datetime
    revision: int
    last_item: int
    changes: int


@dataclass(frozen=True)
class AuditEntry:
    """One row of the trail: an edit, an undo, or an approval."""

    id: int | None
    kind: str
    author: str
    at: datetime
    payload: dict[str, object]
    undone: bool = False


@dataclass(frozen=True)
class ReviewState:
    """A period's review as a report carries it (``report.json``'s ``review`` block)."""

    status: str
    approved_by: str | None
    approved_at: datetime | None
    changes: int
    revision: int
    last_item: int | None
    """The newest item id an approved report covers (later items wait for the next review)."""


class ReviewLog:
    """Edits, undos and approvals of every period of one desk, over one open store.

    ``desk`` is the desk's name in a desks file (None without one): one store holds every
    desk's review, and each desk reads and writes only its own.
    """

    def __init__(self, store: Database, desk: str | None = None) -> None:
        self.store = store
        self.db = store.db
        self.desk = desk or ""

    @staticmethod
    def desks(store: Database) -> list[str]:
        """Every desk with an approval in the store ('' is the installation without desks)."""
        return [r[0] for r in store.db.execute("SELECT DISTINCT desk FROM approvals ORDER BY desk")]

    def _key(self, start: date, end: date) -> tuple[str, str, str]:
        return (self.desk, start.isoformat(), end.isoformat())

    def _rows(self, start: date, end: date) -> list[sqlite3.Row]:
        return list(
            self.db.execute(
                "SELECT * FROM edits WHERE desk = ? AND period_start = ? AND period_end = ? ORDER BY id",
                self._key(start, end),
            )
        )

    def edits(self, start: date, end: date) -> list[Edit]:
        """The live edits of a period (made and not undone), in the order they were made."""
        rows = self._rows(start, end)
        undone = {json.loads(r["payload"])["edit"] for r in rows if r["op"] == UNDO}
        out = []
        for r in rows:
            if r["op"] == UNDO or r["id"] in undone:
                continue
            out.append(
                Edit(
                    id=r["id"],
                    op=parse_op(json.loads(r["payload"])),
                    author=r["author"],
                    at=datetime.fromisoformat(r["created_at"]),
                )
            )
        return out

    def add(self, start: date, end: date, ops: list[Op], author: str) -> list[int]:
        """Record ops (in one transaction: all or none); their ids."""
        ids = []
        now = _now().isoformat()
        with self.store.transaction() as db:
            for op in ops:
                cur = db.execute(
                    "INSERT INTO edits(desk, period_start, period_end, op, payload, author, created_at, "
                    "last_item) VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(id), 0) FROM items))",
                    (*self._key(start, end), op.op, op.model_dump_json(), author, now),
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    def undo(self, start: date, end: date, edit_id: int, author: str) -> int:
        """Take back a live edit of the period; the undo's own id."""
        live = {e.id for e in self.edits(start, end)}
        if edit_id not in live:
            raise ReviewError(f"edit {edit_id} is not a live edit of {start}_{end}")
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO edits(desk, period_start, period_end, op, payload, author, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    *self._key(start, end),
                    UNDO,
                    json.dumps({"edit": edit_id}),
                    author,
                    _now().isoformat(),
                ),
            )
        return int(cur.lastrowid or 0)

    def reviewed_through(self, start: date, end: date) -> int | None:
        """The newest item the analyst had seen at their last edit or approval of the period."""
        row = self.db.execute(
            "SELECT MAX(n) FROM (SELECT last_item AS n FROM edits WHERE desk = ? AND period_start = ? "
            "AND period_end = ? UNION ALL SELECT last_item FROM approvals "
            "WHERE desk = ? AND period_start = ? AND period_end = ?)",
            self._key(start, end) * 2,
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def revision(self, start: date, end: date) -> int:
        row = self.db.execute(
            "SELECT MAX(id) FROM edits WHERE desk = ? AND period_start = ? AND period_end = ?",
            self._key(start, end),
        ).fetchone()
        return int(row[0] or 0)

    def approvals(self, start: date, end: date) -> int:
        """How many times the period was approved (each approval is a new report)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM approvals WHERE desk = ? AND period_start = ? AND period_end = ?",
            self._key(start, end),
        ).fetchone()
        return int(row[0])

    def approval(self, start: date, end: date) -> Approval | None:
        row = self.db.execute(
            "SELECT * FROM approvals WHERE desk = ? AND period_start = ? AND period_end = ? "
            "ORDER BY id DESC LIMIT 1",
            self._key(start, end),
        ).fetchone()
        if row is None:
            return None
        return Approval(
            row["approved_by"],
            datetime.fromisoformat(row["approved_at"]),
            row["revision"],
            row["last_item"],
            row["changes"],
        )

    def state(self, start: date, end: date) -> ReviewState:
        """Draft or approved: approved while nothing was edited or undone since the approval."""
        revision = self.revision(start, end)
        changes = len(self.edits(start, end))
        a = self.approval(start, end)
        if a is not None and a.revision == revision:
            return ReviewState("approved", a.approved_by, a.approved_at, changes, revision, a.last_item)
        return ReviewState("draft", None, None, changes, revision, None)

    def approve(self, start: date, end: date, editor: str, last_item: int) -> Approval:
        """Record that ``editor`` approved the period's draft as it stands now."""
        a = Approval(editor, _now(), self.revision(start, end), last_item, len(self.edits(start, end)))
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO approvals(desk, period_start, period_end, approved_by, approved_at, revision, "
                "last_item, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *self._key(start, end),
                    a.approved_by,
                    a.approved_at.isoformat(),
                    a.revision,
                    a.last_item,
                    a.changes,
                ),
            )
        return a

    def periods(self) -> list[tuple[date, date]]:
        """Every period of the desk that has edits or approvals."""
        rows = self.db.execute(
            "SELECT period_start, period_end FROM edits WHERE desk = ? "
            "UNION SELECT period_start, period_end FROM approvals WHERE desk = ?",
            (self.desk, self.desk),
        )
        return sorted({(date.fromisoformat(r[0]), date.fromisoformat(r[1])) for r in rows})

    def trail(self, start: date | None = None, end: date | None = None) -> list[AuditEntry]:
        """The desk's edits, undos and approvals (of one period, or all), newest first."""
        args: tuple[str, ...]
        where, args = " WHERE desk = ?", (self.desk,)
        if start is not None and end is not None:
            where, args = " WHERE desk = ? AND period_start = ? AND period_end = ?", self._key(start, end)
        rows = list(self.db.execute("SELECT * FROM edits" + where + " ORDER BY id", args))
        undone = {json.loads(r["payload"])["edit"] for r in rows if r["op"] == UNDO}
        out = [
            AuditEntry(
                r["id"],
                r["op"],
                r["author"],
                datetime.fromisoformat(r["created_at"]),
                {"period": f"{r['period_start']}_{r['period_end']}", **json.loads(r["payload"])},
                undone=r["id"] in undone,
            )
            for r in rows
        ]
        order: dict[int, float] = {id(e): float(e.id or 0) for e in out}
        for r in self.db.execute("SELECT * FROM approvals" + where + " ORDER BY id", args):
            entry = AuditEntry(
                None,
                "approve",
                r["approved_by"],
                datetime.fromisoformat(r["approved_at"]),
                {"period": f"{r['period_start']}_{r['period_end']}", "changes": r["changes"]},
            )
            order[id(entry)] = r["revision"] + 0.5  # after the edits it approved, in the same second too
            out.append(entry)
        out.sort(key=lambda e: (e.at, order[id(e)]), reverse=True)
        return out


def parse_ops(data: object) -> list[Op]:
    """``{"edits": [...]}``'s list as ops; :class:`ReviewError` naming the first bad one."""
    if not isinstance(data, list) or not data:
        raise ReviewError("edits: expected a non-empty list of edits")
    ops = []
    for n, raw in enumerate(data):
        try:
            ops.append(parse_op(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ReviewError(f"edit {n}: {where}: {first['msg']}") from None
    return ops
