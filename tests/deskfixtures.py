"""The review desk's test world: the demo week plus one hostile feed, users, a client.

The store is the demo corpus collected through the CLI (the session's ``demo_run``) and
then a real ``osint collect`` of one more feed served on 127.0.0.1 whose item title is
markup written as text, so every page and format can be checked for escaping. Each
test gets its own copy of that store.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from osint.desk.app import create_app
from osint.desk.auth import Throttle
from osint.jobs.users import Users
from osint.settings import Settings
from osint.store import Store

from .conftest import DemoRun, invoke
from .hostile_server import hostile_server

PERIOD = "2026-03-06_2026-03-13"
HOSTILE_TITLE = '<script>alert("desk")</script><img src=x onerror=alert(1)> Mongolia border police alert'
EDITOR, VIEWER, PASSWORD = "erdene", "viewer1", "correct horse battery"

_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile Wire</title><link>{base}/</link><description>x</description>
<item><title>{title}</title><link>{base}/gone-article</link>
<description>Police in Ulaanbaatar, Mongolia, reported a border security alert on Tuesday.</description>
<pubDate>Tue, 10 Mar 2026 08:00:00 +0800</pubDate><guid>hostile-1</guid></item>
</channel></rss>"""


def sentences_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sentence of a ``report.json`` in reading order (development titles apart)."""
    out = list(doc["executive_summary_sentences"])
    for d in doc["developments"]:
        out += d["sentences"]
    for key in ("geopolitical_blocks", "military_blocks"):
        for b in doc["sections"][key]:
            out += b["sentences"]
    outlook = doc["sections"]["outlook"]
    return out + outlook["flashpoints"] + outlook["recommendations"]


def _escape_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def copy_db(src: Path, dest: Path) -> Path:
    """A consistent copy of a live SQLite store (WAL included), through SQLite's backup."""
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    a.close()
    b.close()
    return dest


@dataclass
class DeskWorld:
    db: Path
    feeds: Path
    reports: Path
    """The demo's written reports: the desk lists their periods (the demo week is 8 days)."""


@pytest.fixture(scope="session")
def desk_world(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskWorld]:
    tmp = tmp_path_factory.mktemp("desk")
    db = copy_db(demo_run.db, tmp / "desk.db")
    with pytest.MonkeyPatch.context() as mp, hostile_server() as srv:
        mp.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
        mp.setenv("OSINT_POLITENESS_DELAY", "0")
        srv.static(
            "/hostile.xml",
            _RSS.format(base=srv.url(""), title=_escape_xml(HOSTILE_TITLE)).encode(),
            "application/rss+xml",
        )
        feeds = tmp / "feeds.yaml"
        feeds.write_text(
            demo_run.feeds.read_text(encoding="utf-8")
            + f"  - name: Hostile Wire\n    url: {srv.url('/hostile.xml')}\n    kind: feed\n"
            "    language: en\n    reliability: E\n",
            encoding="utf-8",
        )
        code, output = invoke("collect", "--feeds", str(feeds), "--db", str(db))
        assert code == 0, output
    yield DeskWorld(db, feeds, demo_run.out)


@dataclass
class Desk:
    client: TestClient
    settings: Settings
    editor_token: str
    viewer_token: str

    def login(self, name: str = EDITOR, password: str = PASSWORD, next_: str = "/") -> str:
        """Sign in through the form; the CSRF token of the new session."""
        self.client.post(
            "/login",
            data={"csrf": self.csrf("/login"), "name": name, "password": password, "next": next_},
            follow_redirects=False,
        )
        return self.csrf("/")

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m, page.text[:500]
        return m.group(1)

    def api(self, method: str, path: str, token: str | None = None, **kw: object) -> object:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]

    def report(self) -> dict[str, object]:
        r = self.client.get(
            f"/api/reports/{PERIOD}", headers={"Authorization": f"Bearer {self.editor_token}"}
        )
        assert r.status_code == 200, r.text
        data = r.json()
        assert isinstance(data, dict)
        return data


@contextmanager
def make_desk(
    world: DeskWorld, tmp: Path, *, throttle: Throttle | None = None, **settings: object
) -> Iterator[Desk]:
    db = copy_db(world.db, tmp / "osint.db")
    (tmp / "reports").mkdir()
    for written in world.reports.glob("*.json"):
        shutil.copy(written, tmp / "reports" / written.name)
    s = Settings(db=db, feeds=world.feeds, out=tmp / "reports", **settings)  # type: ignore[arg-type]
    store = Store.open(db)
    users = Users(store)
    users.add(EDITOR, "editor", PASSWORD)
    users.add(VIEWER, "viewer", PASSWORD)
    editor_token, viewer_token = users.new_token(EDITOR), users.new_token(VIEWER)
    store.close()
    with TestClient(create_app(s, throttle=throttle), base_url="http://127.0.0.1") as client:
        yield Desk(client, s, editor_token, viewer_token)


@pytest.fixture
def desk(desk_world: DeskWorld, tmp_path: Path) -> Iterator[Desk]:
    with make_desk(desk_world, tmp_path) as d:
        yield d
