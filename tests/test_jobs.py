"""The job layer: settings overrides, what ``osint collect`` imports, one store per run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from osint.errors import ConfigError
from osint.jobs.context import RunContext
from osint.settings import Settings

HEAVY = ("osint.analyse", "osint.render", "osint.archive", "osint.distribute", "osint.llm_client",
         "osint.jobs.report", "osint.jobs.send", "osint.jobs.weekly", "osint.schedule",
         "jinja2", "weasyprint", "apscheduler")  # fmt: skip


def imported_by(*args: str) -> set[str]:
    """Every module ``python -X importtime ARGS`` imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True
    )
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    return modules


@pytest.mark.parametrize("args", [("collect", "--help"), ("--help",), ("db", "status", "--help")])
def test_collect_loads_no_analysis_rendering_or_llm_code(args: tuple[str, ...]) -> None:
    modules = imported_by("-m", "osint", *args)
    assert "osint.cli" in modules and "osint.jobs.collect" in modules
    loaded = sorted(m for m in modules if m.startswith(HEAVY))
    assert loaded == [], loaded


def test_the_report_job_does_load_them() -> None:
    """The check above can fail: the report job (which ``osint report`` imports) is heavy."""
    assert not any(m.startswith(HEAVY) for m in imported_by("-m", "osint", "report", "--help"))
    modules = imported_by("-c", "import osint.jobs.report")
    assert {"osint.analyse", "osint.render", "jinja2"} <= modules


def test_overrides_apply_what_was_given_only(tmp_path: Path) -> None:
    base = Settings(db=tmp_path / "env.db", engine="llm")
    s = base.with_overrides(db=None, feeds=tmp_path / "f.yaml", engine=None)
    assert (s.db, s.feeds, s.engine) == (tmp_path / "env.db", tmp_path / "f.yaml", "llm")
    assert base.feeds == Path("feeds.yaml")
    with pytest.raises(ConfigError, match="unknown setting"):
        base.with_overrides(no_such_knob=1)


def test_the_context_opens_the_store_once_and_only_when_asked(tmp_path: Path) -> None:
    with RunContext(Settings(db=tmp_path / "s.db")) as ctx:
        assert ctx.store_opens == 0 and not (tmp_path / "s.db").exists()
        assert ctx.store is ctx.store
        with ctx.recorded("test") as record:
            ctx.stats.inc_value("test/things", 2)
            record.status = "partial"
        assert ctx.store_opens == 1
        row = ctx.store.db.execute("SELECT kind, status, stats FROM runs").fetchone()
    assert tuple(row) == ("test", "partial", '{"test/things": 2}')


def test_a_failed_block_is_recorded_as_failed_with_its_stats(tmp_path: Path) -> None:
    with RunContext(Settings(db=tmp_path / "s.db")) as ctx:
        with pytest.raises(RuntimeError), ctx.recorded("test"):
            ctx.stats.inc_value("test/before_failing")
            raise RuntimeError("boom")
        row = ctx.store.db.execute("SELECT status, stats FROM runs").fetchone()
    assert tuple(row) == ("failed", '{"test/before_failing": 1}')
