"""Review as the weekly run sees it: OSINT_REVIEW=required, approval, sending, and edits that last.

Real parts throughout: the CLI, the desk app in-process, aiosmtpd on 127.0.0.1 and a
feed served on loopback for the items that arrive after a review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import invoke
from .deskfixtures import (
    PERIOD,
    Desk,
    DeskWorld,
    copy_db,
    desk,  # noqa: F401  (fixture)
    desk_world,  # noqa: F401  (fixture)
    make_desk,
)
from .hostile_server import hostile_server
from .llm_server import serve_llm
from .mailserver import Handler, mail_env, smtp_server

pytestmark = pytest.mark.slow
WEEK_OF = "2026-03-10"
WEEK = "2026-03-09_2026-03-15"
STEM = f"mongolia-{WEEK}"
READER = "reader@example.org"


@pytest.fixture
def cli_store(desk_world: DeskWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = copy_db(desk_world.db, tmp_path / "osint.db")
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("OSINT_FEEDS", str(desk_world.feeds))
    monkeypatch.setenv("OSINT_DB", str(db))
    monkeypatch.setenv("OSINT_OUT", str(tmp_path / "reports"))
    return db


def test_run_with_review_required_tells_the_reviewers_and_sends_nothing(
    cli_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        mail_env(monkeypatch, port, READER)
        monkeypatch.setenv("OSINT_REVIEW", "required")
        monkeypatch.setenv("OSINT_REVIEW_TO", "editor@example.org")
        monkeypatch.setenv("OSINT_DESK_URL", "https://desk.example.org")
        code, output = invoke("run", "--week-of", WEEK_OF)
    assert code == 0, output
    link = f"https://desk.example.org/reports/{WEEK}"
    assert "awaiting an editor's approval" in output and link in " ".join(output.split())
    assert not list((tmp_path / "reports").glob(f"{STEM}.*"))
    assert [r.rcpt_tos for r in handler.received] == [["editor@example.org"]]
    msg = handler.received[0].message
    assert str(msg["Subject"]).startswith("For review:")
    body = msg.get_body(("plain",))
    assert body is not None and link in body.get_content()


def test_run_with_review_required_says_so_without_mail(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSINT_REVIEW", "required")
    code, output = invoke("run", "--week-of", WEEK_OF)
    assert code == 0, output
    assert f"/reports/{WEEK}" in output and "awaiting an editor's approval" in output


def test_send_refuses_an_unapproved_report(
    cli_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = invoke("report", "--from", "2026-03-09", "--to", "2026-03-15", "--format", "json,md,pdf")
    assert code == 0, output
    handler = Handler()
    with smtp_server(handler) as port:
        mail_env(monkeypatch, port, READER)
        monkeypatch.setenv("OSINT_REVIEW", "required")
        code, output = invoke("send", str(tmp_path / "reports" / f"{STEM}.json"))
    assert code != 0
    assert "not approved" in output and "osint serve" in output
    assert handler.received == []


def test_the_scheduled_job_with_review_required_asks_the_reviewers_and_sends_nothing(
    cli_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osint.schedule import weekly_job
    from osint.settings import Settings

    handler = Handler()
    with smtp_server(handler) as port:
        mail_env(monkeypatch, port, READER)
        monkeypatch.setenv("OSINT_REVIEW", "required")
        monkeypatch.setenv("OSINT_REVIEW_TO", "editor@example.org")
        weekly_job(Settings())()  # the last complete week, as the schedule would run it
    assert [r.rcpt_tos for r in handler.received] == [["editor@example.org"]]
    assert str(handler.received[0].message["Subject"]).startswith("For review:")
    assert not list((tmp_path / "reports").glob("mongolia-*"))


def test_the_desk_drafts_and_approves_with_the_llm_engine(desk_world: DeskWorld, tmp_path: Path) -> None:
    """``OSINT_ENGINE=llm``: the desk's drafts are the model's (a loopback stub server), redrawn
    after an edit to the evidence, and approval writes the model's report."""
    with (
        serve_llm() as llm,
        make_desk(desk_world, tmp_path, engine="llm", llm_base_url=llm.url, llm_model="stub-model") as desk,
    ):
        doc = desk.report()
        assert doc["engine"] == "llm" and doc["model"] == "stub-model"
        assert "development" in llm.tasks()
        asked = len(llm.requests)
        url = doc["annex"][0]["url"]
        r = desk.api(
            "POST",
            f"/api/reports/{PERIOD}/edits",
            desk.editor_token,
            json={"edits": [{"op": "exclude_item", "url": url, "reason": "not about the country"}]},
        )
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        after = desk.report()
        assert url not in {a["url"] for a in after["annex"]} and len(llm.requests) > asked
        r = desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.editor_token)
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        written = json.loads((desk.settings.out / f"mongolia-{PERIOD}.json").read_text(encoding="utf-8"))
        assert written["engine"] == "llm" and written["review"]["status"] == "approved"
        assert url not in {a["url"] for a in written["annex"]}


@pytest.fixture
def mail_desk(desk_world: DeskWorld, tmp_path: Path) -> Iterator[tuple[Desk, Handler]]:
    handler = Handler()
    with smtp_server(handler) as port:
        settings: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "mail_from": "OSINT <osint@example.org>",
            "mail_to": READER,
            "mail_retry_delay": 0,
            "review": "required",
        }
        with make_desk(desk_world, tmp_path, **settings) as d:
            yield d, handler


def test_approval_sends_and_the_run_then_rebuilds_the_same_report(
    mail_desk: tuple[Desk, Handler], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, handler = mail_desk
    doc = desk.api("GET", f"/api/reports/{WEEK}", desk.editor_token).json()  # type: ignore[attr-defined]
    edits = [
        {
            "op": "exclude_item",
            "url": doc["annex"][0]["url"],
            "reason": "duplicate of another outlet's story",
        },
        {"op": "add_assessment", "section": "outlook", "text": "Expect the talks to continue next month."},
    ]
    assert (
        desk.api("POST", f"/api/reports/{WEEK}/edits", desk.editor_token, json={"edits": edits}).status_code
        == 200
    )  # type: ignore[attr-defined]
    r = desk.api("POST", f"/api/reports/{WEEK}/approve", desk.editor_token)
    body = r.json()  # type: ignore[attr-defined]
    assert r.status_code == 200 and body["emailed"] == [READER], body  # type: ignore[attr-defined]
    assert len(handler.received) == 1
    msg = handler.received[0].message
    assert any(p.get_filename() == f"{STEM}.pdf" for p in msg.iter_attachments())
    plain = msg.get_body(("plain",))
    assert plain is not None and "Assessment (erdene)" in plain.get_content()
    approved = {p.suffix: p.read_bytes() for p in (tmp_path / "reports").glob(f"{STEM}.*")}
    written = json.loads(approved[".json"])
    assert written["review"]["status"] == "approved" and written["review"]["changes"] == 2
    # The weekly run, now that the week is approved: rebuilt byte for byte, not sent twice.
    monkeypatch.setenv("OSINT_DB", str(desk.settings.db))
    monkeypatch.setenv("OSINT_FEEDS", str(desk.settings.feeds))
    monkeypatch.setenv("OSINT_OUT", str(tmp_path / "again"))
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("OSINT_REVIEW", "required")
    mail_env(monkeypatch, desk.settings.smtp_port or 0, READER)
    code, output = invoke("report", "--from", "2026-03-09", "--to", "2026-03-15")
    assert code == 0, output
    again = {p.suffix: p.read_bytes() for p in (tmp_path / "again").glob(f"{STEM}.*")}
    assert set(approved) == {".json", ".md", ".html", ".pdf"}
    for ext in approved:
        assert again[ext] == approved[ext], ext
    code, output = invoke("send", str(tmp_path / "reports" / f"{STEM}.json"))
    assert code == 0 and "sent before" in output, output
    assert len(handler.received) == 1


LATE_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Late Wire</title><link>{base}/</link><description>x</description>
<item><title>Mongolia and Russia sign a border police agreement in Ulaanbaatar</title>
<link>{base}/late-1</link>
<description>Mongolia's police and Russian border guards signed an agreement in Ulaanbaatar on Thursday
on joint patrols of the border, the Ministry of Justice said.</description>
<pubDate>Thu, 12 Mar 2026 10:00:00 +0800</pubDate><guid>late-1</guid></item>
</channel></rss>"""


def _cluster_of(doc: dict[str, Any], url: str) -> str:
    return str(next(i["cluster"] for i in doc["items"] if i["url"] == url))


def test_edits_survive_a_later_collect_and_new_items_show_as_new(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = desk.api("GET", f"/api/reports/{WEEK}", desk.editor_token).json()  # type: ignore[attr-defined]
    devs = doc["developments"]
    assert len(devs) >= 3
    first = devs[0]["sources"][0]["url"]
    second = devs[1]["sources"][0]["url"]
    dropped = devs[2]["sources"][0]["url"]
    assert _cluster_of(doc, first) != _cluster_of(doc, second)
    edits = [
        {"op": "merge_stories", "url": second, "into": first},
        {"op": "exclude_item", "url": dropped, "reason": "not about the country"},
        {"op": "rename_development", "development": 0, "title": "Talks of the week, as one story"},
    ]
    r = desk.api("POST", f"/api/reports/{WEEK}/edits", desk.editor_token, json={"edits": edits})
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    # Another process collects a new item of the week: the store changes, the period is sorted again.
    with hostile_server() as srv:
        srv.static("/late.xml", LATE_RSS.format(base=srv.url("")).encode(), "application/rss+xml")
        feeds = tmp_path / "late.yaml"
        feeds.write_text(
            desk.settings.feeds.read_text(encoding="utf-8").split("sources:")[0]
            + f"sources:\n  - name: Late Wire\n    url: {srv.url('/late.xml')}\n    language: en\n    reliability: B\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
        code, output = invoke("collect", "--feeds", str(feeds), "--db", str(desk.settings.db))
        assert code == 0, output
    after = desk.api("GET", f"/api/reports/{WEEK}", desk.editor_token).json()  # type: ignore[attr-defined]
    late = [i for i in after["items"] if i["url"].endswith("/late-1")]
    assert late, "the late item is relevant and in the draft"
    assert _cluster_of(after, first) == _cluster_of(after, second)
    assert dropped not in {i["url"] for i in after["items"]}
    assert after["developments"][0]["title"] == "Talks of the week, as one story"
    assert after["review"]["changes"] == 3
    desk.login()
    page = desk.client.get(f"/reports/{WEEK}").text
    late_id = re.search(r'/items/(\d+)">Mongolia and Russia sign', page).group(1)  # type: ignore[union-attr]
    row = page[page.index(f'<li id="item-{late_id}">') :]
    assert "new since review" in row[: row.index("</li>")]
    assert page.count(">new since review<") == 1  # only the item collected after the edits
