"""``osint run``, ``osint schedule`` and the run lock, end to end on loopback.

The sample corpus (served by the session's ``demo_run``) is collected again into a copy
of its store, the week of 9–15 March 2026 is reported, and the email goes to aiosmtpd
on 127.0.0.1. Interruptions are real exceptions raised between steps; nothing waits on
a clock.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osint.jobs.context import RunContext
from osint.jobs.weekly import run_weekly
from osint.locks import exclusive_lock, lock_path
from osint.schedule import run_scheduler
from osint.settings import Settings

from . import mailserver
from .conftest import PROJECT, DemoRun, invoke
from .mailserver import Handler, reserve_port, smtp_server
from .reportfiles import write_report

WEEK = "2026-03-10"
STEM = "mongolia-2026-03-09_2026-03-15"
FORMATS = ("html", "pdf", "md", "json")
pytestmark = pytest.mark.slow


@pytest.fixture
def store(demo_run: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo store, and the environment a run against the demo corpus needs."""
    db = tmp_path / "osint.db"
    src = sqlite3.connect(demo_run.db)
    with sqlite3.connect(db) as dst:
        src.backup(dst)
    src.close()
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("OSINT_FEEDS", str(demo_run.feeds))
    monkeypatch.setenv("OSINT_DB", str(db))
    monkeypatch.setenv("OSINT_OUT", str(tmp_path / "reports"))
    return db


def mail_env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    mailserver.mail_env(monkeypatch, port, "analyst@example.org, desk@example.org")


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def weekly_runs(db: Path) -> list[tuple[str, dict[str, object]]]:
    rows = sqlite3.connect(db).execute("SELECT status, stats FROM runs WHERE kind = 'weekly' ORDER BY id")
    return [(r[0], json.loads(r[1] or "{}")) for r in rows]


def test_run_builds_every_format_emails_it_once_and_archives(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        mail_env(monkeypatch, port)
        code, output = invoke("run", "--week-of", WEEK)
        assert code == 0, output
        out = tmp_path / "reports"
        mailed_pdf = (out / f"{STEM}.pdf").read_bytes()  # the re-run rewrites it, stamped with its own time
        code, again = invoke("run", "--week-of", WEEK)
        assert code == 0, again
    for ext in FORMATS:
        assert (out / f"{STEM}.{ext}").stat().st_size > 1000
    assert (out / "index.html").is_file() and (out / "feed.xml").is_file()
    assert "emailed" in output and "not again" in " ".join(again.split())
    (got,) = handler.received  # the re-run mailed nobody twice
    assert sorted(got.rcpt_tos) == ["analyst@example.org", "desk@example.org"]
    msg = got.message
    assert msg["Subject"] == "Mongolia Security Analysis Report: 9–15 March 2026"
    (pdf,) = list(msg.iter_attachments())
    assert pdf.get_content() == mailed_pdf  # the PDF the mailing run wrote
    html = msg.get_body(("html",))
    assert html is not None and "Key Security Developments" in html.get_content()
    rows = sqlite3.connect(store).execute("SELECT recipient, status FROM sends ORDER BY recipient").fetchall()
    assert rows == [("analyst@example.org", "sent"), ("desk@example.org", "sent")]
    assert [s for s, _ in weekly_runs(store)] == ["done", "done"]


def test_run_without_mail_settings_builds_and_says_so(store: Path, tmp_path: Path) -> None:
    code, output = invoke("run", "--week-of", WEEK)
    assert code == 0, output
    assert "not emailed: mail is not configured" in " ".join(output.split())
    assert (tmp_path / "reports" / f"{STEM}.pdf").is_file()


def test_built_but_not_sent_exits_3_with_one_line(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with reserve_port() as closed:
        mail_env(monkeypatch, closed.getsockname()[1])
        monkeypatch.setenv("OSINT_MAIL_ATTEMPTS", "2")
        code, output = invoke("run", "--week-of", WEEK)
    assert code == 3, output
    flat = " ".join(output.split())
    assert f"error: {STEM} not sent: cannot connect to the mail server 127.0.0.1" in flat
    assert (tmp_path / "reports" / f"{STEM}.json").is_file()
    status, stats = weekly_runs(store)[-1]
    assert status == "not-sent" and "cannot connect" in str(stats["send/error"])


def test_could_not_build_exits_1_and_keeps_the_previous_report(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = invoke("run", "--week-of", WEEK, "--no-email")
    assert code == 0, output
    out = tmp_path / "reports"
    before = snapshot(out)
    broken = tmp_path / "templates"
    broken.mkdir()
    for f in (PROJECT / "templates").iterdir():
        if f.is_file():  # the desk's own templates (templates/desk/) are not needed here
            (broken / f.name).write_bytes(f.read_bytes())
    (broken / "report.md.j2").write_text("{{ r.no_such_field }}", encoding="utf-8")
    monkeypatch.setenv("OSINT_TEMPLATES_DIR", str(broken))
    handler = Handler()
    with smtp_server(handler) as port:
        mail_env(monkeypatch, port)
        code, output = invoke("run", "--week-of", WEEK)
    assert code == 1, output
    assert len(output.strip().splitlines()) <= 3, output
    assert snapshot(out) == before
    assert not handler.received
    assert [s for s, _ in weekly_runs(store)] == ["done", "failed"]


class Interrupted(BaseException):
    """Stands for a kill between two steps (KeyboardInterrupt would stop pytest)."""


@pytest.mark.parametrize("step", ["building", "writing", "archiving", "sending"])
def test_a_run_interrupted_at_any_step_leaves_report_and_store_intact(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    out = tmp_path / "reports"
    with RunContext(Settings()) as ctx:
        run_weekly(ctx, week_of=datetime(2026, 3, 10).date(), email=False)
    before = snapshot(out)
    handler = Handler()

    def interrupt(name: str) -> None:  # told as each step starts: after the one before it
        if name == step:
            raise Interrupted(name)

    with smtp_server(handler) as port:
        mail_env(monkeypatch, port)
        with pytest.raises(Interrupted), RunContext(Settings()) as ctx:
            run_weekly(ctx, week_of=datetime(2026, 3, 10).date(), on_step=interrupt)
    after = snapshot(out)
    assert set(after) == set(before)  # no temporary file left behind, nothing missing
    if step in ("building", "writing"):
        assert after == before
    for ext in FORMATS:  # whatever is there is whole
        assert after[f"{STEM}.{ext}"] == before[f"{STEM}.{ext}"] or step in ("archiving", "sending")
    json.loads(after[f"{STEM}.json"])
    assert after[f"{STEM}.pdf"].startswith(b"%PDF") and after[f"{STEM}.pdf"].rstrip().endswith(b"%%EOF")
    assert not handler.received
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM sends").fetchone()[0] == 0
    assert [s for s, _ in weekly_runs(store)] == ["done", "failed"]


def test_one_run_at_a_time(store: Path, tmp_path: Path) -> None:
    with exclusive_lock(lock_path(store, "run"), "a test standing in for a cron run"):
        code, output = invoke("run", "--week-of", WEEK)
        assert code == 4, output
        assert f"another osint run or send is running (pid {os.getpid()}" in " ".join(output.split())
        code, output = invoke("send", "--dry-run", str(write_report(tmp_path / "other")))
        assert code == 4, output
    assert not (tmp_path / "reports").exists()
    assert weekly_runs(store) == []


def test_the_lock_holds_across_processes(store: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from osint.locks import exclusive_lock\n"
        "with exclusive_lock(Path(sys.argv[1]), 'a cron run'):\n"
        "    print('locked', flush=True); sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(lock_path(store, "run"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, output = invoke("run", "--week-of", WEEK)
        assert code == 4, output
    finally:
        holder.communicate("\n", timeout=30)
    code, output = invoke("run", "--week-of", WEEK, "--no-email")
    assert code == 0, output


def test_scheduler_catches_up_a_missed_run_once(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A daily schedule, and a last weekly run two days ago: the run due since then was
    # missed, so starting the scheduler runs it once, then waits for the schedule.
    monkeypatch.setenv("OSINT_SCHEDULE", "0 0 * * *")
    db = sqlite3.connect(store)
    started = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    db.execute("INSERT INTO runs(kind, started_at, status) VALUES ('weekly', ?, 'done')", (started,))
    db.commit()
    stop, ready = threading.Event(), []
    run_scheduler(Settings(), stop=stop, on_ready=ready.append, on_run=stop.set)
    assert ready and ready[0] is not None
    runs = weekly_runs(store)
    assert [s for s, _ in runs] == ["done", "done"]
    assert list((tmp_path / "reports").glob("*.pdf"))


def test_schedule_command_stops_cleanly_on_sigterm(store: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OSINT_SCHEDULE"}
    env["OSINT_SCHEDULE"] = "0 6 * * 1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "osint", "schedule"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "next run at" in line and "scheduler started" in line:
            break
    assert "+08:00" in lines[-1] and "T06:00:00" in lines[-1], lines
    when = datetime.fromisoformat(lines[-1].split("next run at ")[1].strip())
    assert when.weekday() == 0  # cron's 1 is Monday
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "scheduler stopped" in rest


def test_a_weekly_run_opens_the_store_once_and_migrates_nothing_again(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osint.store import Store

    opened: list[Path] = []
    migrated: list[list[str]] = []
    real_open, real_migrate = Store.open.__func__, Store.migrate  # type: ignore[attr-defined]

    def counting_open(cls: type[Store], path: Path, *, migrate: bool = True) -> Store:
        opened.append(path)
        return real_open(cls, path, migrate=migrate)  # type: ignore[no-any-return]

    def counting_migrate(self: Store, *args: object) -> list[str]:
        migrated.append(real_migrate(self, *args))
        return migrated[-1]

    monkeypatch.setattr(Store, "open", classmethod(counting_open))
    monkeypatch.setattr(Store, "migrate", counting_migrate)
    code, output = invoke("run", "--week-of", WEEK, "--no-email")
    assert code == 0, output
    assert opened == [store]
    assert migrated == [[]]  # the copy of the demo store is current: nothing to apply
    assert [s for s, _ in weekly_runs(store)] == ["done"]
