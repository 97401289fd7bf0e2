"""The review desk in-process: its JSON API, its pages and forms, and its security rules.

Every request goes through the real ASGI app (Starlette's TestClient) over a copy of
the demo store with one hostile feed collected into it (see :mod:`tests.deskfixtures`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from pypdf import PdfReader

from osint.analyse.language import language_name
from osint.desk.auth import Throttle
from osint.jobs.context import RunContext
from osint.jobs.desk import DeskService, write_reviewed
from osint.jobs.users import Users
from osint.store import Store

from .conftest import invoke
from .deskfixtures import (
    EDITOR,
    HOSTILE_TITLE,
    PASSWORD,
    PERIOD,
    VIEWER,
    Desk,
    DeskWorld,
    desk,  # noqa: F401  (fixture)
    desk_world,  # noqa: F401  (fixture)
    make_desk,
    sentences_of,
)


def _cited_urls(doc: dict[str, Any]) -> set[str]:
    return {a["url"] for a in doc["annex"]}


# --------------------------------------------------------------------------- API


def test_api_needs_credentials(desk: Desk) -> None:
    r = desk.client.get("/api/reports")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = desk.client.get("/api/reports", headers={"Authorization": "Bearer osint_not-a-token"})
    assert r.status_code == 401
    assert desk.client.post(f"/api/reports/{PERIOD}/approve").status_code == 401


def test_viewer_reads_but_may_not_edit_or_approve(desk: Desk) -> None:
    r = desk.api("GET", "/api/reports", desk.viewer_token)
    assert r.status_code == 200  # type: ignore[attr-defined]
    periods = r.json()  # type: ignore[attr-defined]
    assert {"start": "2026-03-06", "end": "2026-03-13"} in [p["period"] for p in periods]
    assert all(p["status"] in ("draft", "approved") for p in periods)
    doc = desk.api("GET", f"/api/reports/{PERIOD}", desk.viewer_token).json()  # type: ignore[attr-defined]
    assert doc["review"] == {"status": "draft", "approved_by": None, "approved_at": None, "changes": 0}
    url = doc["items"][0]["url"]
    edit = {"edits": [{"op": "exclude_item", "url": url, "reason": "off-topic"}]}
    assert desk.api("POST", f"/api/reports/{PERIOD}/edits", desk.viewer_token, json=edit).status_code == 403  # type: ignore[attr-defined]
    assert desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.viewer_token).status_code == 403  # type: ignore[attr-defined]
    assert desk.report()["review"]["changes"] == 0  # type: ignore[index]


def test_api_edits_change_the_draft(desk: Desk) -> None:
    before = desk.report()
    first = {s["url"] for s in before["developments"][0]["sources"]}  # type: ignore[index]
    victim = sorted(_cited_urls(before) - first)[0]  # not the first development's: it stays first
    old_title = before["developments"][0]["title"]  # type: ignore[index]
    edits = {
        "edits": [
            {"op": "exclude_item", "url": victim, "reason": "a wire copy of another country's story"},
            {"op": "rename_development", "development": 0, "title": "Renamed by the analyst"},
            {
                "op": "add_assessment",
                "section": "executive_summary",
                "text": "The week was calmer than it looks.",
            },
        ]
    }
    r = desk.api("POST", f"/api/reports/{PERIOD}/edits", desk.editor_token, json=edits)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert len(r.json()["ids"]) == 3  # type: ignore[attr-defined]
    after = desk.report()
    assert victim not in {i["url"] for i in after["items"]}  # type: ignore[union-attr]
    assert victim not in _cited_urls(after)
    assert all(victim not in [s["url"] for s in d["sources"]] for d in after["developments"])  # type: ignore[union-attr]
    assert after["developments"][0]["title"] == "Renamed by the analyst" != old_title  # type: ignore[index]
    added = [s for s in sentences_of(after) if s["text"] == "The week was calmer than it looks."]
    assert added and added[0]["kind"] == "assessment"
    assert added[0]["author"] == EDITOR
    assert after["review"]["changes"] == 3 and after["review"]["status"] == "draft"  # type: ignore[index]


def test_api_refuses_bad_edits(desk: Desk) -> None:
    path = f"/api/reports/{PERIOD}/edits"
    for body, fragment in (
        (
            {"edits": [{"op": "exclude_item", "url": "https://nowhere.example/x", "reason": "x"}]},
            "not an item",
        ),
        ({"edits": [{"op": "exclude_item", "url": desk.report()["items"][0]["url"]}]}, "reason"),  # type: ignore[index]
        ({"edits": [{"op": "explode"}]}, "edit 0"),
        ({"edits": [{"op": "rename_development", "development": 99, "title": "x"}]}, "development 99"),
        ({"nothing": 1}, "expected"),
    ):
        r = desk.api("POST", path, desk.editor_token, json=body)
        assert r.status_code == 400, (body, r.text)  # type: ignore[attr-defined]
        assert fragment in r.json()["error"]  # type: ignore[attr-defined]
    assert desk.report()["review"]["changes"] == 0  # type: ignore[index]


def test_unsupported_wording_must_be_confirmed(desk: Desk) -> None:
    doc = desk.report()
    sentence = doc["executive_summary_sentences"][0]["text"]  # type: ignore[index]
    changed = sentence.rstrip(".") + ", with 4,321 troops of Atlantis."
    op = {"op": "edit_sentence", "original": sentence, "text": changed}
    r = desk.api("POST", f"/api/reports/{PERIOD}/edits", desk.editor_token, json={"edits": [op]})
    assert r.status_code == 422 and r.json()["needs_confirmation"]  # type: ignore[attr-defined]
    assert "4321" in r.json()["why"] or "atlantis" in r.json()["why"]  # type: ignore[attr-defined]
    r = desk.api(
        "POST", f"/api/reports/{PERIOD}/edits", desk.editor_token, json={"edits": [op | {"confirmed": True}]}
    )
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    after = desk.report()
    texts = [s["text"] for s in after["executive_summary_sentences"]]  # type: ignore[index]
    assert changed in texts and sentence not in texts
    kept = next(s for s in after["executive_summary_sentences"] if s["text"] == changed)  # type: ignore[union-attr]
    assert kept["citations"] == doc["executive_summary_sentences"][0]["citations"]  # type: ignore[index]


def test_undo_takes_an_edit_back(desk: Desk) -> None:
    url = sorted(_cited_urls(desk.report()))[0]
    body = {"edits": [{"op": "exclude_item", "url": url, "reason": "off-topic"}]}
    edit_id = desk.api("POST", f"/api/reports/{PERIOD}/edits", desk.editor_token, json=body).json()["ids"][0]  # type: ignore[attr-defined]
    assert url not in _cited_urls(desk.report())
    r = desk.api("POST", f"/api/reports/{PERIOD}/undo", desk.editor_token, json={"edit": edit_id})
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert url in _cited_urls(desk.report())
    assert (
        desk.api("POST", f"/api/reports/{PERIOD}/undo", desk.editor_token, json={"edit": edit_id}).status_code
        == 400
    )  # type: ignore[attr-defined]


def test_approval_writes_every_format_and_reopens_on_a_later_edit(desk: Desk) -> None:
    r = desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.editor_token)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["review"]["status"] == "approved" and body["review"]["approved_by"] == EDITOR
    written = {Path(p).suffix for p in body["files"]}
    assert {".html", ".pdf", ".md", ".json", ".xml"} <= written
    doc = json.loads((desk.settings.out / f"mongolia-{PERIOD}.json").read_text(encoding="utf-8"))
    assert doc["review"]["status"] == "approved" and doc["review"]["approved_by"] == EDITOR
    listed = desk.api("GET", "/api/reports", desk.viewer_token).json()  # type: ignore[attr-defined]
    assert next(p for p in listed if p["period"]["start"] == "2026-03-06")["status"] == "approved"
    url = doc["items"][0]["url"]
    desk.api(
        "POST",
        f"/api/reports/{PERIOD}/edits",
        desk.editor_token,
        json={"edits": [{"op": "exclude_item", "url": url, "reason": "late correction"}]},
    )
    assert desk.report()["review"]["status"] == "draft"  # type: ignore[index]


def test_an_approved_report_is_the_same_bytes_when_built_again(desk: Desk) -> None:
    """Store + editorial layer + period -> the same files in every format, the PDF included
    (its creation date is the approval's, not the clock's)."""
    url = sorted(_cited_urls(desk.report()))[-1]
    desk.api(
        "POST",
        f"/api/reports/{PERIOD}/edits",
        desk.editor_token,
        json={"edits": [{"op": "exclude_item", "url": url, "reason": "duplicate"}]},
    )
    desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.editor_token)
    out = desk.settings.out
    first = {p.suffix: p.read_bytes() for p in out.glob(f"mongolia-{PERIOD}.*")}
    for p in out.glob(f"mongolia-{PERIOD}.*"):
        p.unlink()
    with RunContext(desk.settings) as ctx:  # a fresh service: nothing kept from the first build
        start, end = (date.fromisoformat(d) for d in PERIOD.split("_"))
        write_reviewed(DeskService(ctx).draft(start, end), desk.settings)
    again = {p.suffix: p.read_bytes() for p in out.glob(f"mongolia-{PERIOD}.*")}
    assert set(first) == {".html", ".pdf", ".md", ".json"}
    for ext in first:
        assert first[ext] == again[ext], ext
    approved_at = datetime.fromisoformat(json.loads(first[".json"])["review"]["approved_at"])
    created = PdfReader(BytesIO(first[".pdf"])).metadata.creation_date  # type: ignore[union-attr]
    assert created is not None and created == approved_at.replace(second=0)  # to the minute, as printed


# --------------------------------------------------------------------------- pages and security


def test_pages_need_a_session_and_say_where_to_go_back(desk: Desk) -> None:
    r = desk.client.get(f"/reports/{PERIOD}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/reports/{PERIOD}"


def test_session_cookie_is_httponly_and_lax(desk: Desk) -> None:
    desk.client.get("/login")
    r = desk.client.post(
        "/login",
        data={"csrf": desk.csrf("/login"), "name": EDITOR, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_cookie_is_secure_behind_tls(desk_world: DeskWorld, tmp_path: Path) -> None:
    with make_desk(desk_world, tmp_path, desk_url="https://desk.example.org") as d:
        r = d.client.get("/login")
        assert "secure" in r.headers["set-cookie"].lower()


def test_every_form_needs_the_csrf_token(desk: Desk) -> None:
    token = desk.login()
    url = desk.report()["items"][0]["url"]  # type: ignore[index]
    item_id = None
    page = desk.client.get(f"/reports/{PERIOD}")
    import re

    item_id = re.search(r'name="item" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"op": "exclude_item", "item": item_id, "reason": "spam"}
    for sent in ({}, {"csrf": "forged"}):
        r = desk.client.post(f"/reports/{PERIOD}/edit", data=form | sent, follow_redirects=False)
        assert r.status_code == 403
    for path in (f"/reports/{PERIOD}/approve", f"/reports/{PERIOD}/undo", "/logout"):
        assert desk.client.post(path, data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    assert desk.report()["review"]["changes"] == 0  # type: ignore[index]
    # a session-authenticated API call needs the token in a header
    api = {"edits": [{"op": "exclude_item", "url": url, "reason": "spam"}]}
    assert desk.client.post(f"/api/reports/{PERIOD}/edits", json=api).status_code == 403
    r = desk.client.post(f"/api/reports/{PERIOD}/edits", json=api, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    r = desk.client.post(f"/reports/{PERIOD}/edit", data=form | {"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert desk.report()["review"]["changes"] == 2  # type: ignore[index]


def test_login_form_needs_csrf_too(desk: Desk) -> None:
    r = desk.client.post("/login", data={"name": EDITOR, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_failed_logins_are_throttled_per_user_and_per_address(desk_world: DeskWorld, tmp_path: Path) -> None:
    now = [1000.0]
    throttle = Throttle(limit=3, window=60.0, clock=lambda: now[0])
    with make_desk(desk_world, tmp_path, throttle=throttle) as d:

        def attempt(name: str, password: str) -> int:
            data = {"csrf": d.csrf("/login"), "name": name, "password": password, "next": "/"}
            return d.client.post("/login", data=data, follow_redirects=False).status_code

        assert [attempt(EDITOR, "wrong") for _ in range(3)] == [400, 400, 400]
        r_code = attempt(EDITOR, PASSWORD)  # the right password no longer helps
        assert r_code == 429
        now[0] += 61
        assert attempt(EDITOR, PASSWORD) == 303
        # per address: many names from one client
        d.client.cookies.clear()
        assert [attempt(f"nobody{i}", "x") for i in range(3)] == [400, 400, 400]
        data = {"csrf": d.csrf("/login"), "name": VIEWER, "password": PASSWORD, "next": "/"}
        r = d.client.post("/login", data=data, follow_redirects=False)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        (f"/reports/{PERIOD}", f"/reports/{PERIOD}"),
    ],
)
def test_no_open_redirect_after_login(desk: Desk, next_: str, expected: str) -> None:
    data = {"csrf": desk.csrf("/login"), "name": EDITOR, "password": PASSWORD, "next": next_}
    r = desk.client.post("/login", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == expected


def test_content_security_policy_allows_no_inline_script(desk: Desk) -> None:
    desk.login()
    for path in ("/login", "/", f"/reports/{PERIOD}", "/sources", "/audit", "/api/reports"):
        csp = desk.client.get(path).headers["content-security-policy"]
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
        assert "frame-ancestors 'none'" in csp


def test_hostile_title_stays_text_on_every_page(desk: Desk) -> None:
    desk.login()
    page = desk.client.get(f"/reports/{PERIOD}").text
    assert "Mongolia border police alert" in page, "the hostile item should be in the draft's evidence"
    import re

    item_id = re.search(r'/items/(\d+)">[^<]*Mongolia border police alert', page).group(1)  # type: ignore[union-attr]
    store = Store.open(desk.settings.db)
    try:
        stored = store.db.execute("SELECT title FROM items WHERE id = ?", (int(item_id),)).fetchone()[0]
    finally:
        store.close()
    token = desk.csrf(f"/reports/{PERIOD}")
    desk.client.post(
        f"/reports/{PERIOD}/edit",
        data={"csrf": token, "op": "exclude_item", "item": item_id, "reason": HOSTILE_TITLE},
    )
    for path in ("/", f"/reports/{PERIOD}", f"/reports/{PERIOD}/items/{item_id}", "/sources", "/audit"):
        text = desk.client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert "built-in method" not in text, path  # a template reading a dict's method
    # whatever markup the stored title kept is shown as text; the reason typed in is all markup
    assert str(escape(stored)) in desk.client.get(f"/reports/{PERIOD}/items/{item_id}").text
    assert str(escape(HOSTILE_TITLE)) in desk.client.get("/audit").text
    assert str(escape(HOSTILE_TITLE)) in desk.client.get(f"/reports/{PERIOD}").text


def test_the_item_page_says_what_language_an_item_is_in_and_how_that_is_known(desk: Desk) -> None:
    """The store records each item's source configuration, its declared language too: an
    item no page or detector tagged shows that, said to be the source's; a tag of its own
    wins; without either the title's script is named; and only with no tag, no recorded
    source and no letters is it "not detected"."""
    import yaml

    desk.login()
    items = desk.report()["items"]
    assert isinstance(items, list)
    declared = {s["name"]: s["language"] for s in yaml.safe_load(desk.settings.feeds.read_text())["sources"]}
    tagged, unknown, untagged, unrecorded = items[:4]

    def language_row(item: dict[str, Any]) -> str:
        page = desk.client.get(f"/reports/{PERIOD}/items/{item['item_id']}").text
        return page.split("<dt>Language</dt><dd>", 1)[1].split("</dd>", 1)[0]

    with Store.open(desk.settings.db) as store:
        assert store.db.execute("SELECT COUNT(*) FROM items WHERE language IS NOT NULL").fetchone()[0] == 0
    code = declared[untagged["source"]]
    assert language_row(untagged) == (
        f"{code} ({language_name(code)}): the source&#39;s declared language (not detected in the item)"
    )

    with Store.open(desk.settings.db) as store, store.transaction() as db:
        db.execute("UPDATE items SET language = 'ru-RU' WHERE id = ?", (tagged["item_id"],))
        db.execute(
            "UPDATE items SET language = NULL, source_config = NULL, title = '2026 — 14:00' WHERE id = ?",
            (unknown["item_id"],),
        )
        db.execute("UPDATE items SET source_config = NULL WHERE id = ?", (unrecorded["item_id"],))
    assert language_row(tagged) == "ru-RU (Russian)"
    assert language_row(unknown) == "not detected"
    # stored before configurations were recorded: the title's script is all there is
    assert language_row(unrecorded) == "Latin script, from the title (no language recorded)"


def test_pages_render_for_a_signed_in_viewer_without_forms(desk: Desk) -> None:
    desk.login(VIEWER)
    page = desk.client.get(f"/reports/{PERIOD}")
    assert page.status_code == 200
    assert "Approve and publish" not in page.text and 'value="exclude_item"' not in page.text
    assert desk.client.get("/sources").status_code == 200
    r = desk.client.post(f"/reports/{PERIOD}/approve", data={"csrf": desk.csrf("/")}, follow_redirects=False)
    assert r.status_code == 403


# --------------------------------------------------------------------------- commands


def test_users_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "u.db"
    from typer.testing import CliRunner

    from osint.cli import app

    r = CliRunner().invoke(
        app,
        ["users", "add", "anna", "--role", "editor", "--password-stdin", "--db", str(db)],
        input="long enough pw\n",
    )
    assert r.exit_code == 0, r.output
    code, out = invoke("users", "add", "bad name!", "--role", "editor", "--password-stdin", "--db", str(db))
    assert code != 0 and "user name" in out
    code, token = invoke("users", "token", "anna", "--db", str(db))
    assert code == 0 and token.strip().startswith("osint_")
    store = Store.open(db)
    try:
        stored = store.db.execute("SELECT password_hash, token_hash FROM users").fetchone()
        assert stored[0].startswith("$argon2id$") and token.strip() not in stored[1]
        assert Users(store).by_token(token.strip()) is not None
    finally:
        store.close()
    code, listing = invoke("users", "list", "--db", str(db))
    assert code == 0 and "anna" in listing and "editor" in listing
    assert invoke("users", "remove", "anna", "--db", str(db))[0] == 0
    assert invoke("users", "remove", "anna", "--db", str(db))[0] != 0


def test_serve_warns_when_listening_beyond_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    code, out = invoke("serve", "--host", "0.0.0.0", "--port", "8123", "--db", str(tmp_path / "s.db"))
    assert code == 0 and "without TLS" in out and calls[0]["host"] == "0.0.0.0"
    code, out = invoke("serve", "--db", str(tmp_path / "s.db"))
    assert code == 0 and "without TLS" not in out and calls[1]["host"] == "127.0.0.1"
    monkeypatch.setenv("OSINT_DESK_URL", "https://desk.example.org")
    code, out = invoke("serve", "--host", "0.0.0.0", "--db", str(tmp_path / "s.db"))
    assert code == 0 and "without TLS" not in out


def test_serve_takes_a_desks_file_and_refuses_feeds_or_out_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from osint.settings import PROJECT_ROOT

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    desks = str(PROJECT_ROOT / "desks.yaml")
    code, out = invoke("serve", "--desks", desks, "--db", str(tmp_path / "s.db"))
    assert code == 0, out
    assert [d.name for d in apps[0].state.desk.desks] == ["mongolia", "kazakhstan"]
    code, out = invoke("serve", "--desks", desks, "--feeds", "feeds.yaml", "--db", str(tmp_path / "s.db"))
    assert code == 2 and "per desk" in out and len(apps) == 1


def test_api_answers_have_the_documented_shapes(desk: Desk) -> None:
    listed = desk.api("GET", "/api/reports", desk.viewer_token).json()  # type: ignore[attr-defined]
    entry = next(p for p in listed if p["period"] == {"start": "2026-03-06", "end": "2026-03-13"})
    assert set(entry) == {
        "desk", "period", "status", "approved_by", "approved_at", "changes", "items", "files", "url", "page"
    }  # fmt: skip
    assert (
        entry["desk"] is None
        and entry["url"] == f"/api/reports/{PERIOD}"
        and entry["page"] == f"/reports/{PERIOD}"
    )
    doc = desk.report()
    assert {"schema_version", "period", "developments", "items", "annex", "review", "desk"} <= set(doc)
    assert set(doc["review"]) == {"status", "approved_by", "approved_at", "changes"}  # type: ignore[arg-type]
    url = doc["items"][0]["url"]  # type: ignore[index]
    edit = {"edits": [{"op": "exclude_item", "url": url, "reason": "off-topic"}]}
    r = desk.api("POST", f"/api/reports/{PERIOD}/edits", desk.editor_token, json=edit).json()  # type: ignore[attr-defined]
    assert set(r) == {"ids", "review"} and r["review"]["changes"] == 1
    r = desk.api("POST", f"/api/reports/{PERIOD}/undo", desk.editor_token, json={"edit": r["ids"][0]}).json()  # type: ignore[attr-defined]
    assert set(r) == {"id", "review"} and r["review"]["changes"] == 0
    r = desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.editor_token).json()  # type: ignore[attr-defined]
    assert set(r) == {"review", "files", "emailed", "email_error"} and r["review"]["status"] == "approved"
    assert r["emailed"] == [] and r["email_error"] is None  # no mail configured
