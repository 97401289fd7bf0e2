"""The job layer: settings overrides, what ``osint collect`` imports, one store per run."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from osint.analyse import Draft, Evidence, ExtractiveEngine
from osint.errors import ConfigError
from osint.jobs.context import RunContext
from osint.jobs.report import build_report
from osint.models import Sentence
from osint.render import render
from osint.settings import Settings

from .conftest import DemoRun

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


class _Inventing:
    """The extractive engine, plus a sentence with an invented figure and one citing no real item."""

    name = "inventing"

    def compose(self, evidence: Evidence) -> Draft:
        draft = ExtractiveEngine().compose(evidence)
        some = next(iter(evidence.items))
        draft.executive += [
            Sentence(text="Exactly 98765 troops took part.", item_ids=[some]),
            Sentence(text="Talks went well.", item_ids=[10**9]),
        ]
        return draft


def test_verification_drop_reasons_reach_the_stats_and_the_coverage_section(
    demo_run: DemoRun, tmp_path: Path
) -> None:
    db = tmp_path / "copy.db"
    with sqlite3.connect(demo_run.db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    settings = Settings(feeds=demo_run.feeds, db=db)
    with RunContext(settings) as ctx:
        plain = build_report(ctx, date(2026, 3, 6), date(2026, 3, 13)).coverage
        report = build_report(ctx, date(2026, 3, 6), date(2026, 3, 13), engine=_Inventing())
        stats = ctx.stats
    cov = report.coverage
    assert cov.sentences_dropped == plain.sentences_dropped + 2
    assert cov.sentences_checked == plain.sentences_checked + 2
    expected = dict(plain.dropped_by_reason)
    for reason in ("numbers not in its sources", "cites no item of this period"):
        expected[reason] = expected.get(reason, 0) + 1
    assert cov.dropped_by_reason == expected
    # The coverage section reads the run's one stats record (recounted per report, not summed).
    assert stats.count("verify/dropped") == cov.sentences_dropped
    assert stats.under("verify/dropped") == cov.dropped_by_reason
    md = render(report, "md", settings.templates_dir, settings.zone()).decode()
    assert "1: numbers not in its sources" in md


def test_a_collect_run_records_its_stats_and_the_summary_reads_them(demo_run: DemoRun) -> None:
    rows = sqlite3.connect(demo_run.db).execute("SELECT status, stats FROM runs WHERE kind = 'collect' ORDER BY id")
    (first_status, first), (again_status, again) = [(s, json.loads(j)) for s, j in rows][:2]
    assert (first_status, again_status) == ("done", "done")
    stored = sqlite3.connect(demo_run.db).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert first["collect/sources"] == 5 and first["collect/new_items"] == stored
    assert first["collect/sources/ok"] == 5 and first["collect/classified"] == stored
    assert again["collect/new_items"] == 0 and "collect/classified" not in again
    assert again.get("collect/sources/not_modified", 0) + again.get("collect/sources/ok", 0) == 5
    assert f"{stored} new item(s) from 5 source(s); 0 source(s) failed." in demo_run.collect_output
