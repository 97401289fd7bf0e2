"""The store's migrations: keyed by name, listable, and upgrading a store of the last release in place."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from osint.errors import StoreError
from osint.store import MIGRATIONS, Migration, Store

from .conftest import FIXTURES, invoke

RELEASE_1 = FIXTURES / "store-release-1.db"
"""Written by the release before migrations were keyed by name (positional ``version`` column)."""


def release_1_copy(tmp_path: Path) -> Path:
    db = tmp_path / "old.db"
    shutil.copy(RELEASE_1, db)
    return db


def test_a_store_of_the_last_release_upgrades_in_place_and_keeps_everything(tmp_path: Path) -> None:
    db = release_1_copy(tmp_path)
    raw = sqlite3.connect(db)
    before = {
        table: raw.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        for table in ("items", "sources", "runs", "sends", "llm_cache")
    }
    assert [r[1] for r in raw.execute("PRAGMA table_info(migrations)")] == ["version", "name", "applied_at"]
    raw.close()
    with Store.open(db) as store:
        assert store.pending() == []
        assert list(store.applied()) == [name for name, _ in MIGRATIONS]  # the newer ones applied in place
        everything = store.items_between(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        assert [i.title for i in everything] == [
            "Cabinet approves the border crossing plan",
            "Defence ministers meet in Ulaanbaatar",
        ]
        assert everything[0].classification is not None and everything[0].classified_with == "fp-release-1"
        assert store.delivered_to("mongolia-2026-03-09_2026-03-15") == {"analyst@example.org"}
        assert store.cached_llm_response("k1") == '{"sentences": []}'
        assert store.source_states()["Example Wire"].status == "failing"
    raw = sqlite3.connect(db)
    assert [r[1] for r in raw.execute("PRAGMA table_info(migrations)")] == ["name", "applied_at"]
    for table, rows in before.items():  # every row and value kept; migrations only add columns
        after = raw.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        assert [row[: len(rows[0])] for row in after] == rows, table
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_migrations_are_applied_by_name_once(tmp_path: Path) -> None:
    calls: list[str] = []

    def make(name: str) -> Migration:
        def fn(db: sqlite3.Connection) -> None:
            calls.append(name)
            db.execute(f"CREATE TABLE {name} (x INTEGER)")

        return name, fn

    db = tmp_path / "s.db"
    with Store.open(db) as store:
        assert store.pending() == []
        first = [*MIGRATIONS, make("t_a"), make("t_c")]
        assert store.pending(first) == ["t_a", "t_c"]
        assert store.migrate(first) == ["t_a", "t_c"]
        # One inserted mid-list (a branch merged later) is applied; the others are not again.
        second = [*MIGRATIONS, make("t_a"), make("t_b"), make("t_c")]
        assert store.pending(second) == ["t_b"]
        assert store.migrate(second) == ["t_b"]
        assert store.migrate(second) == []
    assert calls == ["t_a", "t_c", "t_b"]
    with Store.open(db) as store:
        assert {"t_a", "t_b", "t_c"} <= set(store.applied())


def test_a_name_listed_twice_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store, pytest.raises(StoreError, match="listed twice: initial"):
        store.migrate([*MIGRATIONS, MIGRATIONS[0]])


def test_db_status_lists_migrations_and_changes_nothing(tmp_path: Path) -> None:
    db = release_1_copy(tmp_path)
    code, output = invoke("db", "status", "--db", str(db))
    assert code == 0, output
    for name, _ in MIGRATIONS:
        assert name in output
    # The last release had four; the rest wait for the next command that opens the store.
    assert f"4 applied, {len(MIGRATIONS) - 4} pending." in output
    assert re.search(r"source_configs\s+│\s+pending", output)
    Store.open(db).close()
    code, output = invoke("db", "status", "--db", str(db))
    assert f"{len(MIGRATIONS)} applied, 0 pending." in output
    fresh = tmp_path / "fresh.db"
    code, output = invoke("db", "status", "--db", str(fresh))
    assert code == 0, output
    assert f"0 applied, {len(MIGRATIONS)} pending." in output
    assert (
        sqlite3.connect(fresh).execute("SELECT name FROM sqlite_master WHERE name = 'items'").fetchone()
        is None
    )


def test_db_status_names_a_migration_of_a_newer_release(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store.open(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO migrations VALUES ('from_the_future', '2030-01-01T00:00:00+00:00')")
    code, output = invoke("db", "status", "--db", str(db))
    assert code == 0, output
    assert "from_the_future" in output and "unknown" in output


def test_an_unusable_database_is_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    db.write_bytes(b"this is not a database" * 100)
    code, output = invoke("db", "status", "--db", str(db))
    assert code == 2, output
    assert "error: database" in output


def test_items_keep_the_configuration_they_were_collected_under(tmp_path: Path) -> None:
    from osint.models import Article, Entry, SourceConfig

    def everything(store: Store) -> dict[str, tuple[bool, str, str | None]]:
        items = store.items_between(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        return {i.title: (i.source_recorded, i.reliability, i.source_country) for i in items}

    db = release_1_copy(tmp_path)
    montsame = SourceConfig(
        name="Montsame (English)", url="https://montsame.mn/en/rss", reliability="B", country="MN"
    )
    with Store.open(db) as store:
        # Stored before configurations were recorded: nothing known until a collect says.
        assert {recorded for recorded, _, _ in everything(store).values()} == {False}
        store.sync_sources([montsame])  # the first collect after the upgrade
        assert set(everything(store).values()) == {(True, "B", "MN")}
        states = store.source_states()
        assert (states["Montsame (English)"].configured, states["Montsame (English)"].reliability) == (
            True,
            "B",
        )
        assert not states["Example Wire"].configured  # no longer in the feeds file, history kept
        # Regraded: what was stored keeps B, what comes next is A.
        store.sync_sources([montsame.model_copy(update={"reliability": "A"})])
        when = datetime(2026, 3, 11, tzinfo=UTC)
        url = "https://montsame.mn/en/read/103"
        store.record_success(
            "Montsame (English)",
            [(Entry(source="Montsame (English)", url=url, title="Later", published=when),
              Article(url=url, title="Later", text="A later article about Mongolia."))],
            etag=None, last_modified=None,
        )  # fmt: skip
        got = everything(store)
        assert got["Later"] == (True, "A", "MN")
        assert got["Cabinet approves the border crossing plan"] == (True, "B", "MN")
