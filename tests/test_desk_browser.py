"""The review desk in a real browser: Debian's chromium driven by Playwright, the desk under uvicorn.

An analyst signs in, merges two stories, excludes an item, renames a development, adds
an assessment and approves; the written JSON and PDF carry every change and the email
reaches aiosmtpd on 127.0.0.1. The same desk is then reviewed and approved with the
keyboard alone, and a hostile feed title must not run in any page. Screenshots of every
page (1280 and 800 px wide, and with JavaScript off) go to DESK_SCREENSHOTS when set.

Playwright drives the system browser (``/usr/bin/chromium``, installed by ``make
system``); it never downloads one. Without that browser the tests are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from osint.desk.app import create_app
from osint.jobs.users import Users
from osint.settings import Settings
from osint.store import Store

from .deskfixtures import EDITOR, PASSWORD, DeskWorld, copy_db, desk_world  # noqa: F401
from .mailserver import Handler, smtp_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (make system installs it); the browser tests need it",
    ),
]
WEEK = "2026-03-09_2026-03-15"
STEM = f"mongolia-{WEEK}"
READER = "reader@example.org"


@dataclass
class LiveDesk:
    url: str
    settings: Settings
    mail: Handler


@pytest.fixture
def live_desk(desk_world: DeskWorld, tmp_path: Path) -> Iterator[LiveDesk]:
    """The desk served by uvicorn on 127.0.0.1 (a free port), mailing to aiosmtpd."""
    db = copy_db(desk_world.db, tmp_path / "osint.db")
    with Store.open(db) as store:
        Users(store).add(EDITOR, "editor", PASSWORD)
    handler = Handler()
    with smtp_server(handler) as smtp_port:
        settings = Settings(
            db=db,
            feeds=desk_world.feeds,
            out=tmp_path / "reports",
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            mail_from="OSINT <osint@example.org>",
            mail_to=READER,
            mail_retry_delay=0,
        )
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:  # start-up, not a timing assumption: it either starts or the test hangs
            if not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield LiveDesk(f"http://127.0.0.1:{port}", settings, handler)
        finally:
            server.should_exit = True
            thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def _page(browser: Any, *, width: int = 1280, javascript: bool = True) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15000)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page, dialogs


def _sign_in(page: Any, desk: LiveDesk) -> None:
    page.goto(f"{desk.url}/reports/{WEEK}")
    assert "/login" in page.url
    page.fill("#name", EDITOR)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{desk.url}/reports/{WEEK}")


def _story_of(page: Any, dev: int) -> str:
    href = page.get_attribute(f"#dev-{dev} a[href^='#story-']", "href")
    assert href
    return str(href)[1:]


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join((p.extract_text() or "") for p in PdfReader(BytesIO(path.read_bytes())).pages)


def test_review_and_approve_in_the_browser(live_desk: LiveDesk, browser: Any) -> None:
    page, dialogs = _page(browser)
    _sign_in(page, live_desk)
    # merge the second development's story into the first's
    first, second = _story_of(page, 0), _story_of(page, 1)
    into = page.get_attribute(f"#{first} input[name=item]", "value")
    moved = page.get_attribute(f"#{second} input[name=item]", "value")
    page.click(f"#{second} details.story-actions > summary")
    page.fill(f"#{second} input[name=into_item]", str(into))
    page.click(f"#{second} form:has(input[value=merge_stories]) button")
    assert "Saved: merge stories" in page.inner_text(".notice")
    # exclude an item cited by the third development
    third = _story_of(page, 2)
    victim = page.get_attribute(f"#{third} li input[name=item]", "value")
    page.click(f"#{third} li:has(input[name=item][value='{victim}']) details > summary")
    page.fill(f"#{third} li:has(input[name=item][value='{victim}']) input[name=reason]", "not about Mongolia")
    page.click(f"#{third} li:has(input[name=item][value='{victim}']) button")
    assert "Saved: exclude item" in page.inner_text(".notice")
    # rename the first development
    page.click("#dev-0 .dev-actions details:has(input[value=rename_development]) > summary")
    page.fill("#dev-0 input[name=title]", "Talks in the capital, as the analyst reads them")
    page.click("#dev-0 form:has(input[value=rename_development]) button")
    assert page.inner_text("#dev-0 h3").startswith("1. Talks in the capital, as the analyst reads them")
    # add an assessment to the executive summary
    page.click("#executive-summary details.add > summary")
    page.fill(
        "#executive-summary details.add textarea[name=text]",
        "The week was calmer than the headlines suggest.",
    )
    page.click("#executive-summary form:has(input[value=add_assessment]) button")
    assert f"Assessment ({EDITOR}): The week was calmer" in page.inner_text("#executive-summary")
    # approve
    page.click("form.approve button")
    assert "Approved by erdene" in page.inner_text(".notice")
    assert dialogs == []

    out = live_desk.settings.out
    doc = json.loads((out / f"{STEM}.json").read_text(encoding="utf-8"))
    assert doc["review"]["status"] == "approved" and doc["review"]["approved_by"] == EDITOR
    assert doc["review"]["changes"] == 4
    assert doc["developments"][0]["title"] == "Talks in the capital, as the analyst reads them"
    by_id = {}
    with Store.open(live_desk.settings.db) as store:
        for item_id in (into, moved, victim):
            by_id[item_id] = store.db.execute(
                "SELECT url, title FROM items WHERE id = ?", (int(str(item_id)),)
            ).fetchone()
    clusters = {i["url"]: i["cluster"] for i in doc["items"]}
    assert clusters[by_id[into][0]] == clusters[by_id[moved][0]]
    assert by_id[victim][0] not in clusters and by_id[victim][0] not in {a["url"] for a in doc["annex"]}
    added = [s for s in doc["executive_summary_sentences"] if s["kind"] == "assessment"]
    assert [(s["text"], s["author"]) for s in added] == [
        ("The week was calmer than the headlines suggest.", EDITOR)
    ]
    # The PDF may hyphenate a word at a line's end ("sug\u2010 gest"): read it joined.
    pdf = " ".join(_pdf_text(out / f"{STEM}.pdf").split()).replace("\u2010 ", "")
    assert "Talks in the capital, as the analyst reads them" in pdf
    assert f"Assessment ({EDITOR}): The week was calmer than the headlines suggest." in pdf
    assert f"Approved by {EDITOR}" in pdf
    assert by_id[victim][1][:40] not in pdf
    assert len(live_desk.mail.received) == 1 and live_desk.mail.received[0].rcpt_tos == [READER]
    mailed = live_desk.mail.received[0].message
    assert any(p.get_filename() == f"{STEM}.pdf" for p in mailed.iter_attachments())


def _tab_to(page: Any, selector: str, limit: int = 400) -> None:
    """Press Tab until ``selector`` has the focus (a person with a keyboard does the same)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus with Tab")


def test_keyboard_alone_reviews_and_approves(live_desk: LiveDesk, browser: Any) -> None:
    """Sign in, rename a development, exclude an item, add an assessment and approve: keys only."""
    page, dialogs = _page(browser)
    page.goto(f"{live_desk.url}/login?next=/reports/{WEEK}")
    # the name field takes the focus itself (autofocus): typing before it has would lose keys
    page.wait_for_function("document.activeElement && document.activeElement.id === 'name'")
    page.keyboard.type(EDITOR)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_desk.url}/reports/{WEEK}")
    # j moves the focus from one development or story to the next (the page's few lines of script)
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.matches('.development, .story')")
    _tab_to(page, "#dev-0 details:has(input[value=rename_development]) > summary")
    page.keyboard.press("Enter")
    _tab_to(page, "#dev-0 input[name=title]")
    page.keyboard.press("Control+A")
    page.keyboard.type("Renamed with the keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Renamed with the keyboard" in page.inner_text("#dev-0 h3")
    # exclude the first item of the second development's story
    story = _story_of(page, 1)
    victim = page.get_attribute(f"#{story} li input[name=item]", "value")
    _tab_to(page, f"#{story} li:has(input[value='{victim}']) details.item-actions > summary", limit=3000)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # into the reason
    page.keyboard.type("excluded with the keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Saved: exclude item" in page.inner_text(".notice")
    # the analyst's own paragraph in the executive summary
    _tab_to(page, "#executive-summary details.add > summary", limit=3000)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("Typed without a mouse.")
    _tab_to(page, "#executive-summary form:has(input[value=add_assessment]) button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"Assessment ({EDITOR}): Typed without a mouse." in page.inner_text("#executive-summary")
    _tab_to(page, "form.approve button", limit=3000)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Approved by erdene" in page.inner_text(".notice")
    assert dialogs == []
    doc = json.loads((live_desk.settings.out / f"{STEM}.json").read_text(encoding="utf-8"))
    assert doc["review"]["status"] == "approved" and doc["review"]["changes"] == 3
    assert doc["developments"][0]["title"] == "Renamed with the keyboard"


PAGES = (
    "/login",
    "/",
    f"/reports/{WEEK}",
    "/sources",
    "/audit",
    "/reports/2026-03-09_not-a-day",
)  # the last: the error page


def test_hostile_title_fires_no_dialog_and_every_page_is_looked_at(live_desk: LiveDesk, browser: Any) -> None:
    shots = Path(os.environ.get("DESK_SCREENSHOTS", "")) if os.environ.get("DESK_SCREENSHOTS") else None
    for javascript in (True, False):
        for width in (1280, 800):
            page, dialogs = _page(browser, width=width, javascript=javascript)
            _sign_in(page, live_desk)
            hostile = page.get_attribute("a:has-text('Mongolia border police alert')", "href")
            assert hostile, "the hostile item is listed in the draft's evidence"
            for path in (*PAGES, hostile):
                page.goto(f"{live_desk.url}{path}")
                assert page.locator("script:not([src])").count() == 0
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{path} is wider than {width} px"
                if shots is not None:
                    shots.mkdir(parents=True, exist_ok=True)
                    name = (
                        path.strip("/").replace("/", "_") or "periods"
                    ) + f"-{width}{'' if javascript else '-nojs'}.png"
                    page.screenshot(path=str(shots / name), full_page=path != f"/reports/{WEEK}")
            assert dialogs == [], dialogs
            page.context.close()
