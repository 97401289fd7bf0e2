"""The review desk over a desks file: every desk's reports listed and reviewed apart.

Two desks over one store (the Kazakhstan sample week on 127.0.0.1, as in
:mod:`tests.test_desks`): ``osint serve --desks`` lists each desk's periods, shows each
desk only its own sources' items, keeps each desk's edits and approvals its own, writes
an approved report into that desk's directory and archive, and the API says the desk of
every report. The weekly run then sends the approved desk's report and asks the
reviewers of the other for theirs, with a link to that desk's page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from osint.demo import CorpusSite
from osint.desk.app import create_app
from osint.jobs.users import Users
from osint.settings import Settings
from osint.store import Store

from .conftest import invoke
from .mailserver import Handler, mail_env, smtp_server
from .test_desks import WEEK, _desks, site  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
EDITOR, PASSWORD = "aigerim", "correct horse battery"
MONGOLIA_SOURCES = {"The UB Post", "Steppe Regional Wire"}


@dataclass
class Desks:
    client: TestClient
    root: Path
    desks_file: Path
    db: Path
    token: str

    def api(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.request(method, path, headers={"Authorization": f"Bearer {self.token}"}, **kw)


@pytest.fixture
def served(site: CorpusSite, tmp_path: Path) -> Iterator[Desks]:
    desks = _desks(site, tmp_path)
    db = tmp_path / "osint.db"
    code, output = invoke(
        "run", "--desks", str(desks), "--db", str(db), "--week-of", "2024-10-30", "--no-email"
    )
    assert code == 0, output
    with Store.open(db) as store:
        Users(store).add(EDITOR, "editor", PASSWORD)
        token = Users(store).new_token(EDITOR)
    with TestClient(create_app(Settings(desks=desks, db=db)), base_url="http://127.0.0.1") as client:
        yield Desks(client, tmp_path, desks, db, token)


def _sources(doc: dict[str, Any]) -> set[str]:
    return {i["source"] for i in doc["items"]}


def test_each_desk_lists_and_reviews_its_own_reports(served: Desks) -> None:
    listed = served.api("GET", "/api/reports").json()
    ours = {(r["desk"], r["period"]["start"], r["period"]["end"]) for r in listed}
    assert {("mongolia", "2024-10-28", "2024-11-03"), ("kazakhstan", "2024-10-28", "2024-11-03")} <= ours
    assert {r["desk"] for r in listed} == {"mongolia", "kazakhstan"}
    entry = next(r for r in listed if r["desk"] == "kazakhstan" and r["period"]["start"] == "2024-10-28")
    assert entry["url"] == f"/api/desks/kazakhstan/reports/{WEEK}" and entry["files"] == [
        "html",
        "json",
        "md",
        "pdf",
    ]

    mongolia = served.api("GET", f"/api/desks/mongolia/reports/{WEEK}").json()
    kazakhstan = served.api("GET", f"/api/desks/kazakhstan/reports/{WEEK}").json()
    assert (mongolia["desk"], kazakhstan["desk"]) == ("mongolia", "kazakhstan")
    assert _sources(mongolia) <= MONGOLIA_SOURCES and "The UB Post" in _sources(mongolia)
    assert "The UB Post" not in _sources(kazakhstan)
    # without a desk, a report of a multi-desk installation is ambiguous: the answer says how to name one
    r = served.api("GET", f"/api/reports/{WEEK}")
    assert r.status_code == 404 and "mongolia, kazakhstan" in r.json()["error"]
    assert served.api("GET", f"/api/desks/atlantis/reports/{WEEK}").status_code == 404

    # an edit of one desk's week is not the other's
    note = {"op": "add_assessment", "section": "executive_summary", "text": "The visit matters more here."}
    r = served.api("POST", f"/api/desks/mongolia/reports/{WEEK}/edits", json={"edits": [note]})
    assert r.status_code == 200, r.text
    texts = lambda doc: [s["text"] for s in doc["executive_summary_sentences"]]  # noqa: E731
    assert note["text"] in texts(served.api("GET", f"/api/desks/mongolia/reports/{WEEK}").json())
    kazakhstan = served.api("GET", f"/api/desks/kazakhstan/reports/{WEEK}").json()
    assert note["text"] not in texts(kazakhstan) and kazakhstan["review"]["changes"] == 0

    # approving one desk's week writes into that desk's directory and archive only
    r = served.api("POST", f"/api/desks/kazakhstan/reports/{WEEK}/approve")
    assert r.status_code == 200, r.text
    assert all("/reports/kazakhstan/" in f for f in r.json()["files"])
    written = json.loads((served.root / "reports/kazakhstan" / f"kazakhstan-{WEEK}.json").read_text())
    assert written["review"]["status"] == "approved" and written["review"]["approved_by"] == EDITOR
    other = json.loads((served.root / "reports/mongolia" / f"mongolia-{WEEK}.json").read_text())
    assert other["review"]["status"] == "draft"
    status = {
        r["desk"]: r["status"]
        for r in served.api("GET", "/api/reports").json()
        if r["period"]["start"] == "2024-10-28"
    }
    assert status == {"mongolia": "draft", "kazakhstan": "approved"}


def test_pages_are_per_desk(served: Desks) -> None:
    c = served.client
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"csrf": csrf, "name": EDITOR, "password": PASSWORD, "next": "/"})
    home = c.get("/").text
    assert "Desk mongolia" in home and "Desk kazakhstan" in home
    assert (
        f'href="/desks/kazakhstan/reports/{WEEK}"' in home
        and f'href="/desks/mongolia/reports/{WEEK}"' in home
    )
    draft = c.get(f"/desks/mongolia/reports/{WEEK}")
    assert draft.status_code == 200
    assert f'action="/desks/mongolia/reports/{WEEK}/edit"' in draft.text
    assert f'action="/reports/{WEEK}/edit"' not in draft.text
    assert "Kazinform" not in draft.text  # the other desk's outlets are not in this desk's evidence
    lost = c.get(f"/reports/{WEEK}")  # a link from before the desks file: each desk's page offered
    assert lost.status_code == 404 and f'href="/desks/kazakhstan/reports/{WEEK}"' in lost.text
    sources = c.get("/desks/mongolia/sources").text
    assert "The UB Post" in sources and "Kazinform" not in sources
    token = re.search(r'name="csrf" value="([^"]+)"', draft.text).group(1)  # type: ignore[union-attr]
    form = {
        "csrf": token,
        "op": "add_assessment",
        "section": "outlook",
        "text": "Watch the border.",
        "back": "#outlook",
    }
    r = c.post(f"/desks/mongolia/reports/{WEEK}/edit", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/desks/mongolia/reports/{WEEK}#outlook"
    trail = c.get("/desks/mongolia/audit").text
    assert "Watch the border." in trail and f'href="/desks/mongolia/reports/{WEEK}"' in trail
    assert "Watch the border." not in c.get("/desks/kazakhstan/audit").text


def test_the_weekly_run_sends_the_approved_desk_and_asks_for_the_other(
    served: Desks, monkeypatch: pytest.MonkeyPatch
) -> None:
    served.api("POST", f"/api/desks/kazakhstan/reports/{WEEK}/approve")
    approved = (served.root / "reports/kazakhstan" / f"kazakhstan-{WEEK}.pdf").read_bytes()
    handler = Handler()
    with smtp_server(handler) as port:
        mail_env(monkeypatch, port, "everyone@example.org")
        monkeypatch.setenv("OSINT_REVIEW", "required")
        monkeypatch.setenv("OSINT_REVIEW_TO", "editor@example.org")
        monkeypatch.setenv("OSINT_DESK_URL", "https://desk.example.org")
        code, output = invoke(
            "run", "--desks", str(served.desks_file), "--db", str(served.db), "--week-of", "2024-10-30"
        )
    assert code == 0, output
    by_rcpt = {tuple(r.rcpt_tos): r.message for r in handler.received}
    assert set(by_rcpt) == {("kazakhstan-desk@example.org",), ("editor@example.org",)}
    ask = by_rcpt[("editor@example.org",)]
    body = ask.get_body(("plain",))
    assert body is not None
    assert f"https://desk.example.org/desks/mongolia/reports/{WEEK}" in body.get_content()
    assert (served.root / "reports/kazakhstan" / f"kazakhstan-{WEEK}.pdf").read_bytes() == approved
