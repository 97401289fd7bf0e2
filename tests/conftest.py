"""Shared fixtures: a temp home per test, the sample corpus served on 127.0.0.1, one demo run.

No test reaches beyond this machine: every server here binds 127.0.0.1, and the
collector is only allowed that address through OSINT_ALLOW_PRIVATE_NETWORKS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.demo import DEMO_DIR, CorpusSite, feeds_for, serve_corpus

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).resolve().parent.parent


def fixture_bytes(name: str) -> bytes:
    """A file under tests/fixtures, as bytes (the one way tests read fixtures)."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own directory with no OSINT_* variables from the caller."""
    for key in list(os.environ):
        if key.startswith("OSINT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OSINT_POLITENESS_DELAY", "0")


@dataclass
class DemoRun:
    site: CorpusSite
    feeds: Path
    db: Path
    out: Path
    collect_output: str
    recollect_output: str
    report_output: str

    def report_file(self, ext: str) -> Path:
        return self.out / f"mongolia-2026-03-06_2026-03-13.{ext}"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """The sample corpus collected through the CLI twice and reported once, for inspection."""
    tmp = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp, serve_corpus(DEMO_DIR / "site") as site:
        for key in list(os.environ):
            if key.startswith("OSINT_"):
                mp.delenv(key)
        mp.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
        mp.setenv("OSINT_POLITENESS_DELAY", "0")
        mp.chdir(tmp)
        feeds = feeds_for(site, DEMO_DIR / "feeds.yaml", tmp / "feeds.yaml")
        db, out = tmp / "osint.db", tmp / "reports"
        code1, collect_out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
        code2, recollect_out = invoke("collect", "--feeds", str(feeds), "--db", str(db))
        code3, report_out = invoke(
            "report",
            "--feeds",
            str(feeds),
            "--db",
            str(db),
            "--from",
            "2026-03-06",
            "--to",
            "2026-03-13",
            "--out",
            str(out),
        )
        assert (code1, code2, code3) == (0, 0, 0), collect_out + recollect_out + report_out
        yield DemoRun(site, feeds, db, out, collect_out, recollect_out, report_out)
