"""The job layer: settings overrides, what ``osint collect`` imports, one store per run."""

from __future__ import annotations

import json
import os
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

from .conftest import PROJECT, DemoRun
from .hostile_server import hostile_server
from .test_collect import rss
from .test_layers import layer_table

HEAVY = ("osint.analyse", "osint.render", "osint.archive", "osint.distribute", "osint.llm_client",
         "osint.jobs.report", "osint.jobs.send", "osint.jobs.weekly", "osint.schedule",
         "jinja2", "weasyprint", "apscheduler")  # fmt: skip

COLLECT_STAGES = {"osint.parse", "osint.extract", "osint.store", "osint.classify"}
"""The stages a collect chains (classification only once something new is stored)."""
COLLECT_JOBS = {"osint.jobs", "osint.jobs.context", "osint.jobs.collect", "osint.jobs.gather",
                "osint.jobs.users"}  # fmt: skip
COLLECT_FRONTS = {"osint.__main__", "osint.cli", "osint.desk", "osint.desk.commands"}
"""The CLI registers the desk's commands (the desk's app is imported only by ``serve``)."""
NOT_FOR_COLLECT = ("osint.llm_client", "osint.templating", "trafilatura", "pebble", "jinja2",
                   "weasyprint", "apscheduler", "starlette", "uvicorn", "markdown", "babel",
                   "sklearn", "numpy", "httpx")  # fmt: skip
"""Toolkits and libraries a collect's main process never needs (extraction imports
trafilatura in its worker processes; pebble only when there is a page to extract; lxml
is needed, for feed fields that hold HTML; the fetcher is built on httpcore alone, httpx
is the LLM client's)."""


def imported_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module ``python -X importtime ARGS`` imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True, env=env
    )
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    return modules


def not_for_collect(modules: set[str]) -> list[str]:
    """What of ``modules`` a collect should not have loaded: any osint module outside the
    toolkits and the collect's own stages, jobs and fronts, and the heavy libraries."""
    table = layer_table()
    allowed = COLLECT_STAGES | COLLECT_JOBS | COLLECT_FRONTS | {"osint"}
    wrong = []
    for m in modules:
        top = m.split(".")
        if (
            (
                top[0] == "osint"
                and m not in allowed
                and not (len(top) > 1 and table.get(top[1]) == "toolkits")
            )
            or m.split(".")[0] in {n.split(".")[0] for n in NOT_FOR_COLLECT if "." not in n}
            or m in NOT_FOR_COLLECT
        ):
            wrong.append(m)
    return sorted(wrong)


@pytest.mark.parametrize("args", [("collect", "--help"), ("--help",), ("db", "status", "--help")])
def test_collect_loads_no_analysis_rendering_or_llm_code(args: tuple[str, ...]) -> None:
    modules = imported_by("-m", "osint", *args)
    assert "osint.cli" in modules and "osint.jobs.collect" in modules
    assert not_for_collect(modules) == []


def test_a_collect_that_stores_and_classifies_loads_none_of_it(tmp_path: Path) -> None:
    """A real run (a feed on 127.0.0.1 whose article page is gone, so its summary is stored
    and classified without a worker process), not only the command's help."""
    with hostile_server() as srv:
        srv.static(
            "/f.xml", rss([("Khural approves budget", srv.url("/gone"), "Mon, 09 Mar 2026 10:00:00 +0800")])
        )
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            f"country: {PROJECT / 'countries' / 'mongolia.yaml'}\nsources:\n  - name: T\n    url: '{srv.url('/f.xml')}'\n"
        )
        env = {**os.environ, "OSINT_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32"}
        modules = imported_by(
            "-m", "osint", "collect", "--feeds", str(feeds), "--db", str(tmp_path / "c.db"), env=env
        )
    assert "osint.classify" in modules, "the run stored and classified an item"
    assert not_for_collect(modules) == []


def test_the_check_sees_what_a_collect_should_not_load() -> None:
    """The check can fail: the report job's modules, a desk page, a heavy library."""
    modules = {"osint.jobs.report", "osint.cluster", "osint.desk.app", "jinja2.environment", "trafilatura",
               "osint.store", "osint.text", "httpx", "lxml.html", "osint.llm_client"}  # fmt: skip
    assert not_for_collect(modules) == [
        "httpx", "jinja2.environment", "osint.cluster", "osint.desk.app", "osint.jobs.report", "osint.llm_client", "trafilatura"
    ]  # fmt: skip


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
    """The extractive engine, plus a sentence with an invented figure, one with an invented
    figure and name, and one citing no real item."""

    name = "inventing"

    def compose(self, evidence: Evidence) -> Draft:
        draft = ExtractiveEngine().compose(evidence)
        some = next(iter(evidence.items))
        draft.executive += [
            Sentence(text="Exactly 98765 troops took part.", item_ids=[some]),
            Sentence(text="Exactly 98765 troops of Atlantis took part.", item_ids=[some]),
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
        plain_report = build_report(ctx, date(2026, 3, 6), date(2026, 3, 13))
        report = build_report(ctx, date(2026, 3, 6), date(2026, 3, 13), engine=_Inventing())
        stats = ctx.stats
    cov, plain = report.coverage, plain_report.coverage
    assert cov.sentences_dropped == plain.sentences_dropped + 3, "one drop per sentence"
    assert cov.sentences_checked == plain.sentences_checked + 3
    expected = dict(plain.dropped_by_reason)
    added = {
        "numbers not in its sources": 2,
        "names not in its sources": 1,
        "cites no item of this period": 1,
    }
    for reason, n in added.items():
        expected[reason] = expected.get(reason, 0) + n
    assert cov.dropped_by_reason == expected, "every reason a dropped sentence failed"
    # The coverage section reads the run's one stats record (recounted per report, not summed).
    assert stats.count("verify/dropped") == cov.sentences_dropped
    assert stats.under("verify/dropped") == cov.dropped_by_reason
    for fmt in ("md", "html"):
        text = render(report, fmt, settings.templates_dir, settings.zone()).decode()
        assert f"{cov.sentences_dropped} were dropped (" in text
        assert f"{expected['numbers not in its sources']}: numbers not in its sources" in text
        assert "a sentence that failed several checks is counted under each)" in text, fmt
    plain_md = render(plain_report, "md", settings.templates_dir, settings.zone()).decode()
    overlap = sum(plain.dropped_by_reason.values()) > plain.sentences_dropped
    assert ("counted under each" in plain_md) == overlap, "said only when the counts overlap"


def test_a_collect_run_records_its_stats_and_the_summary_reads_them(demo_run: DemoRun) -> None:
    rows = sqlite3.connect(demo_run.db).execute(
        "SELECT status, stats FROM runs WHERE kind = 'collect' ORDER BY id"
    )
    (first_status, first), (again_status, again) = [(s, json.loads(j)) for s, j in rows][:2]
    assert (first_status, again_status) == ("done", "done")
    stored = sqlite3.connect(demo_run.db).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert first["collect/sources"] == 5 and first["collect/new_items"] == stored
    assert first["collect/sources/ok"] == 5 and first["collect/classified"] == stored
    assert again["collect/new_items"] == 0 and "collect/classified" not in again
    assert again.get("collect/sources/not_modified", 0) + again.get("collect/sources/ok", 0) == 5
    assert f"{stored} new item(s) from 5 source(s); 0 source(s) failed." in demo_run.collect_output
