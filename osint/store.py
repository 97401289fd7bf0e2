"""SQLite store: sources' state, items, classification, runs. Idempotent by design.

Migrations are plain functions, each with a name, applied in list order and recorded
by name in ``migrations``: a store has had a migration when its name is recorded, so
one added anywhere in the list is applied to existing stores exactly once (a store
from before names were the key is upgraded in place on open). New ones are appended,
never edited. Items are keyed by their normalised URL, so a second
collect of the same feed adds nothing; each source's items are written in one
transaction, so a run killed at any moment leaves either all or none of them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from .errors import StoreError
from .models import Article, Classification, Entry, Item, SendRecord, SourceConfig, SourceState
from .periods import resolve_date
from .review_schema import MIGRATIONS as REVIEW_MIGRATIONS
from .urls import content_hash, normalize_url


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _script(db: sqlite3.Connection, script: str) -> None:
    """Run DDL statements inside the caller's transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new',
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_success TEXT,
            last_checked TEXT,
            backoff_until TEXT,
            etag TEXT,
            last_modified TEXT
        );
        CREATE TABLE items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url_key TEXT NOT NULL UNIQUE,
            url TEXT NOT NULL,
            source TEXT NOT NULL,
            guid TEXT,
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            published TEXT NOT NULL,
            date_estimated INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT NOT NULL,
            language TEXT,
            author TEXT,
            site TEXT,
            canonical_url TEXT,
            extraction TEXT NOT NULL,
            extraction_note TEXT,
            content_hash TEXT NOT NULL,
            relevant INTEGER,
            relevance REAL,
            buckets TEXT,
            evidence TEXT
        );
        CREATE INDEX items_published ON items(published);
        CREATE INDEX items_source ON items(source);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            stats TEXT
        );
        """,
    )


def _m_llm_cache(db: sqlite3.Connection) -> None:
    """Answers of the LLM engine, keyed by a hash of (model, prompt name, rendered prompt)."""
    _script(
        db,
        """
        CREATE TABLE llm_cache (
            key TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            prompt TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    )


def _m_sends(db: sqlite3.Connection) -> None:
    """Every email of a report to a recipient, so a re-run mails nobody twice."""
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS sends (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            report TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            path TEXT NOT NULL,
            recipient TEXT NOT NULL,
            message_id TEXT,
            sent_at TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT
        );
        CREATE INDEX IF NOT EXISTS sends_report ON sends(report, recipient)
        """,
    )


def _m_classified_with(db: sqlite3.Connection) -> None:
    """Which profile (and source country) decided an item's stored classification."""
    db.execute("ALTER TABLE items ADD COLUMN classified_with TEXT")


def _m_source_configs(db: sqlite3.Connection) -> None:
    """Each source's configuration as collected, kept with every item it gave.

    A report grades an item, and lists a source, by what the store recorded when the
    item was collected, not by whichever feeds file the report is given. ``sources``
    says whether a source was in the feeds file of the last collect (``configured``)
    and points at its current configuration.
    """
    _script(
        db,
        """
        CREATE TABLE source_configs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            language TEXT NOT NULL,
            reliability TEXT NOT NULL,
            country TEXT NOT NULL DEFAULT '',
            UNIQUE (name, url, kind, language, reliability, country)
        );
        ALTER TABLE sources ADD COLUMN config_id INTEGER REFERENCES source_configs(id);
        ALTER TABLE sources ADD COLUMN configured INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE sources ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE items ADD COLUMN source_config INTEGER REFERENCES source_configs(id);
        CREATE INDEX items_source_config ON items(source_config)
        """,
    )


Migration = tuple[str, Callable[[sqlite3.Connection], None]]

MIGRATIONS: list[Migration] = [
    ("initial", _m001_initial),
    ("llm_cache", _m_llm_cache),
    ("sends", _m_sends),
    ("classified_with", _m_classified_with),
    ("source_configs", _m_source_configs),
    *REVIEW_MIGRATIONS,
]
"""Every migration by name, in the order a new store gets them; append, never rename."""


def _names_are_unique(migrations: Sequence[Migration]) -> None:
    names = [name for name, _ in migrations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StoreError(f"migrations listed twice: {', '.join(dupes)}")


def _migrations_table(db: sqlite3.Connection) -> None:
    """The record of applied migrations, keyed by name.

    Stores written before names were the key have ``migrations(version, name,
    applied_at)``; their names are kept and the position column is dropped.
    """

    def columns() -> list[str]:
        return [r[1] for r in db.execute("PRAGMA table_info(migrations)")]

    if columns() and "version" not in columns():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        old = columns()  # again, under the lock: another process may have done it meanwhile
        if old and "version" not in old:
            db.execute("ROLLBACK")
            return
        db.execute("CREATE TABLE migrations_by_name (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        if old:
            db.execute(
                "INSERT INTO migrations_by_name SELECT name, MIN(applied_at) FROM migrations "
                "GROUP BY name ORDER BY MIN(version)"
            )
            db.execute("DROP TABLE migrations")
        db.execute("ALTER TABLE migrations_by_name RENAME TO migrations")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Store:
    """One SQLite database file; open with :meth:`open` (a context manager), or close with :meth:`close`."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path, *, migrate: bool = True) -> Store:
        """Open (creating it if need be) and apply the pending migrations.

        ``migrate=False`` only reads the record of migrations (``osint db status``).
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            store = cls(db, path)
            _migrations_table(db)
            if migrate:
                store.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"database {path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"database {path}: {exc.strerror or exc}") from exc
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ migrations

    def applied(self) -> dict[str, datetime]:
        """Migration name -> when it was applied to this store (names of newer releases too)."""
        rows = self.db.execute("SELECT name, applied_at FROM migrations ORDER BY rowid")
        return {str(r[0]): datetime.fromisoformat(r[1]) for r in rows}

    def pending(self, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
        """Names of the migrations not applied yet, in the order they would be."""
        done = self.applied()
        return [name for name, _ in migrations if name not in done]

    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
        """Apply every pending migration, each in its own transaction; the names applied."""
        _names_are_unique(migrations)
        ran = []
        for name in self.pending(migrations):
            fn = dict(migrations)[name]
            with self.transaction() as db:
                if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue  # another process applied it while this one waited for the lock
                fn(db)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _ts(datetime.now(UTC))))
            ran.append(name)
        return ran

    # ------------------------------------------------------------------ sources

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Record the feeds file of this collect: every source's state row and configuration.

        New sources start as 'new'; a source missing from ``sources`` is marked as no
        longer configured (its items and history stay). Items stored before
        configurations were recorded take their source's current one, once.
        """
        if self._sources_in_sync(sources):
            return  # most collects: the same feeds file as last time, nothing to write
        with self.transaction() as db:
            db.execute("UPDATE sources SET configured = 0")
            for s in sources:
                config_id = self._config_id(db, s)
                db.execute(
                    "INSERT INTO sources(name, url, config_id, configured, enabled) VALUES (?, ?, ?, 1, ?) "
                    "ON CONFLICT(name) DO UPDATE SET url = excluded.url, config_id = excluded.config_id, "
                    "configured = 1, enabled = excluded.enabled, "
                    "etag = CASE WHEN sources.url = excluded.url THEN etag END, "
                    "last_modified = CASE WHEN sources.url = excluded.url THEN last_modified END",
                    (s.name, s.url, config_id, int(s.enabled)),
                )
                db.execute(
                    "UPDATE items SET source_config = ? WHERE source = ? AND source_config IS NULL",
                    (config_id, s.name),
                )

    def _sources_in_sync(self, sources: Sequence[SourceConfig]) -> bool:
        """Whether the store already holds exactly ``sources`` (every one configured with
        this URL, state and configuration, no other configured) and every item its
        source's configuration: then :meth:`sync_sources` would write nothing new."""
        rows = {
            r["name"]: r
            for r in self.db.execute(
                "SELECT s.name, s.url, s.configured, s.enabled, c.name AS c_name, c.url AS c_url, "
                "c.kind, c.language, c.reliability, c.country "
                "FROM sources s LEFT JOIN source_configs c ON c.id = s.config_id"
            )
        }
        if {name for name, r in rows.items() if r["configured"]} != {s.name for s in sources}:
            return False
        for s in sources:
            r = rows[s.name]
            stored = (r["url"], bool(r["enabled"]), r["c_name"], r["c_url"], r["kind"], r["language"])
            if stored != (s.url, s.enabled, s.name, s.url, s.kind, s.language):
                return False
            if (r["reliability"], r["country"]) != (s.reliability, s.country or ""):
                return False
        return self.db.execute("SELECT 1 FROM items WHERE source_config IS NULL LIMIT 1").fetchone() is None

    @staticmethod
    def _config_id(db: sqlite3.Connection, s: SourceConfig) -> int:
        key = (s.name, s.url, s.kind, s.language, s.reliability, s.country or "")
        db.execute(
            "INSERT INTO source_configs(name, url, kind, language, reliability, country) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            key,
        )
        row = db.execute(
            "SELECT id FROM source_configs WHERE name = ? AND url = ? AND kind = ? AND language = ? "
            "AND reliability = ? AND country = ?",
            key,
        ).fetchone()
        return int(row[0])

    _STATE = (
        "SELECT sources.*, c.reliability AS c_reliability, c.country AS c_country "
        "FROM sources LEFT JOIN source_configs c ON c.id = sources.config_id"
    )

    def source_state(self, name: str) -> SourceState | None:
        row = self.db.execute(f"{self._STATE} WHERE sources.name = ?", (name,)).fetchone()
        return None if row is None else self._state(row)

    def source_states(self) -> dict[str, SourceState]:
        """Every source the store has known, configured now or not, in the order first configured."""
        rows = self.db.execute(f"{self._STATE} ORDER BY sources.rowid")
        return {row["name"]: self._state(row) for row in rows}

    @staticmethod
    def _state(row: sqlite3.Row) -> SourceState:
        return SourceState(
            name=row["name"],
            url=row["url"],
            status=row["status"],
            last_error=row["last_error"],
            consecutive_failures=row["consecutive_failures"],
            last_success=_dt(row["last_success"]),
            last_checked=_dt(row["last_checked"]),
            backoff_until=_dt(row["backoff_until"]),
            etag=row["etag"],
            last_modified=row["last_modified"],
            configured=bool(row["configured"]),
            enabled=bool(row["enabled"]),
            reliability=row["c_reliability"],
            country=row["c_country"] or None,
        )

    def record_failure(self, name: str, error: str, backoff_until: datetime | None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE sources SET status = 'failing', last_error = ?, "
                "consecutive_failures = consecutive_failures + 1, last_checked = ?, "
                "backoff_until = ? WHERE name = ?",
                (error[:1000], _ts(datetime.now(UTC)), _ts(backoff_until), name),
            )

    def record_success(
        self,
        name: str,
        articles: Sequence[tuple[Entry, Article]],
        *,
        etag: str | None,
        last_modified: str | None,
        not_modified: bool = False,
    ) -> int:
        """Store a source's new items and its healthy state in one transaction.

        Returns how many items were new. Items already stored (same normalised URL)
        are left as they are, so re-runs never duplicate or overwrite.
        """
        now = datetime.now(UTC)
        new = 0
        with self.transaction() as db:
            for entry, art in articles:
                published, estimated = resolve_date(art.published or entry.published, now, now)
                cur = db.execute(
                    "INSERT INTO items(url_key, url, source, guid, title, summary, text, "
                    "published, date_estimated, first_seen, language, author, site, "
                    "canonical_url, extraction, extraction_note, content_hash, source_config) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                    "(SELECT config_id FROM sources WHERE name = ?)) "
                    "ON CONFLICT(url_key) DO NOTHING",
                    (
                        normalize_url(entry.url),
                        entry.url,
                        name,
                        entry.guid,
                        art.title or entry.title,
                        entry.summary,
                        art.text,
                        _ts(published),
                        int(estimated),
                        _ts(now),
                        art.language,
                        art.author,
                        art.site,
                        art.canonical_url,
                        art.extraction,
                        art.note,
                        content_hash(art.text),
                        name,
                    ),
                )
                new += cur.rowcount
            db.execute(
                "UPDATE sources SET status = 'ok', last_error = NULL, consecutive_failures = 0, "
                "last_success = ?, last_checked = ?, backoff_until = NULL, "
                "etag = CASE WHEN ? THEN etag ELSE ? END, "
                "last_modified = CASE WHEN ? THEN last_modified ELSE ? END WHERE name = ?",
                (_ts(now), _ts(now), not_modified, etag, not_modified, last_modified, name),
            )
        return new

    # ------------------------------------------------------------------ items

    def known_urls(self, urls: Sequence[str]) -> set[str]:
        """Which of these article URLs are stored already (so their pages are not refetched)."""
        keys = {normalize_url(u): u for u in urls}
        found: set[str] = set()
        key_list = list(keys)
        for i in range(0, len(key_list), 500):
            chunk = key_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT url_key FROM items WHERE url_key IN ({marks})", chunk):
                found.add(keys[row[0]])
        return found

    def items_between(self, start: datetime, end: datetime) -> list[Item]:
        """Items whose date falls in ``[start, end)`` (aware datetimes), oldest first."""
        rows = self.db.execute(
            f"{self._ITEMS} WHERE published >= ? AND published < ? ORDER BY published, items.id",
            (_ts(start), _ts(end)),
        )
        return [self._item(r) for r in rows]

    def unclassified_items(self, source: str | None = None) -> list[Item]:
        """Items no profile has judged yet (new since the last collect or report), of one source or all."""
        where, args = ("AND items.source = ?", (source,)) if source is not None else ("", ())
        rows = self.db.execute(f"{self._ITEMS} WHERE classified_with IS NULL {where} ORDER BY items.id", args)
        return [self._item(r) for r in rows]

    _ITEMS = (
        "SELECT items.*, c.reliability AS c_reliability, c.country AS c_country, c.language AS c_language "
        "FROM items LEFT JOIN source_configs c ON c.id = items.source_config"
    )
    """Items with the configuration their source had when they were collected."""

    @staticmethod
    def _item(row: sqlite3.Row) -> Item:
        cls = None
        if row["relevant"] is not None:
            cls = Classification(
                relevant=bool(row["relevant"]),
                relevance=row["relevance"],
                buckets=json.loads(row["buckets"] or "[]"),
                evidence=json.loads(row["evidence"] or "{}"),
            )
        return Item(
            id=row["id"],
            url=row["url"],
            source=row["source"],
            title=row["title"],
            text=row["text"],
            summary=row["summary"],
            published=datetime.fromisoformat(row["published"]),
            date_estimated=bool(row["date_estimated"]),
            first_seen=datetime.fromisoformat(row["first_seen"]),
            language=row["language"],
            author=row["author"],
            site=row["site"],
            canonical_url=row["canonical_url"],
            extraction=row["extraction"],
            extraction_note=row["extraction_note"],
            classification=cls,
            classified_with=row["classified_with"],
            **Store._collected_as(row),
        )

    @staticmethod
    def _collected_as(row: sqlite3.Row) -> dict[str, object]:
        """An item's grade, country and declared language as its source was configured when
        it was collected."""
        if row["c_reliability"] is None:
            return {}  # stored before configurations were recorded, and not seen by a collect since
        return {
            "reliability": row["c_reliability"],
            "source_country": row["c_country"] or None,
            "source_language": row["c_language"] or None,
            "source_recorded": True,
        }

    def save_classifications(self, results: Sequence[tuple[int, Classification, str]]) -> None:
        """Record each item's relevance and buckets (irrelevant items are kept, only marked)
        with the fingerprint of the profile that decided, so an unchanged profile is not
        asked again."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE items SET relevant = ?, relevance = ?, buckets = ?, evidence = ?, "
                "classified_with = ? WHERE id = ?",
                [
                    (
                        int(c.relevant),
                        c.relevance,
                        json.dumps(c.buckets),
                        json.dumps(c.evidence, ensure_ascii=False, sort_keys=True),
                        fingerprint,
                        item_id,
                    )
                    for item_id, c, fingerprint in results
                ],
            )

    # ------------------------------------------------------------------ LLM answers

    def cached_llm_response(self, key: str) -> str | None:
        """The stored answer for a cache key, or None (see :mod:`osint.analyse.llm`)."""
        row = self.db.execute("SELECT response FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def cache_llm_response(self, key: str, model: str, prompt: str, response: str) -> None:
        """Keep a usable answer so asking the same question again costs no request."""
        self.db.execute(
            "INSERT INTO llm_cache(key, model, prompt, response, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET response = excluded.response, created_at = excluded.created_at",
            (key, model, prompt, response, _ts(datetime.now(UTC))),
        )

    # ------------------------------------------------------------------ runs

    def start_run(self, kind: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs(kind, started_at) VALUES (?, ?)", (kind, _ts(datetime.now(UTC)))
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, object]) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
            (_ts(datetime.now(UTC)), status, json.dumps(stats, default=str), run_id),
        )

    def last_run_started(self, kind: str, statuses: Sequence[str]) -> datetime | None:
        """When the latest run of ``kind`` that ended in one of ``statuses`` started."""
        marks = ",".join("?" * len(statuses))
        row = self.db.execute(
            f"SELECT MAX(started_at) FROM runs WHERE kind = ? AND status IN ({marks})", (kind, *statuses)
        ).fetchone()
        return _dt(row[0]) if row else None

    # ------------------------------------------------------------------ sends

    def record_sends(self, rows: Sequence[SendRecord]) -> None:
        """Record what happened to each recipient of a report email, in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO sends(report, period_start, period_end, path, recipient, message_id, "
                "sent_at, status, error) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        r.report,
                        r.period_start.isoformat(),
                        r.period_end.isoformat(),
                        r.path,
                        r.recipient,
                        r.message_id,
                        _ts(r.sent_at),
                        r.status,
                        r.error,
                    )
                    for r in rows
                ],
            )

    def delivered_to(self, report: str) -> set[str]:
        """Recipients (lower-case addresses) who have been sent ``report`` successfully."""
        rows = self.db.execute(
            "SELECT DISTINCT recipient FROM sends "
            "WHERE report = ? AND status IN ('sent', 'sent-without-pdf')",
            (report,),
        )
        return {str(r[0]) for r in rows}
