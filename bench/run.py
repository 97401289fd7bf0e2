"""``make bench``: every benchmark in one run, side by side with the peer; writes ``bench/results.md``.

* collection: ``osint collect`` over a synthetic web on 127.0.0.1 (first run, a re-run
  with nothing new, a re-run against a server without conditional GET) and
  ``trafilatura --feed`` over the same feeds, checked by what the server served and
  what each tool stored or wrote;
* sorting: classification with the real country profile and clustering, at 10,000
  and 20,000 items;
* the report for one week of 2,000 items: analysis and each format;
* peak memory of every step: the largest process (its ``VmHWM``) and the sum over the
  process tree (both read from /proc every 50 ms).

Every step runs in its own process. Steps are repeated round by round while the time
budget allows, and the table gives medians with the number of runs. Nothing here
asserts a timing; the goals are compared and reported, met or not.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .corpus import Corpus, CorpusSpec
from .server import CorpusServer, serving

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results.md"
PROFILES = PROJECT / "bench" / "profiles"
PROFILE_FILE = PROJECT / "countries" / "mongolia.yaml"
OSINT_ENV = {"OSINT_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32", "OSINT_POLITENESS_DELAY": "0"}
MB = 1024.0

# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    """One process, measured: wall time, CPU time (its own and its waited-for children's, so
    the extraction workers' too), peak RSS of its largest process and of its whole tree, and
    the machine's 1-minute load average when it started."""

    seconds: float
    max_rss_kb: int
    tree_rss_kb: int
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0
    load: float = 0.0

    def json(self) -> dict[str, Any]:
        """The last stdout line, for steps that print their figures as JSON."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if self.returncode != 0 or not lines:
            raise RuntimeError(f"step failed (exit {self.returncode}):\n{self.stderr[-3000:]}")
        data: dict[str, Any] = json.loads(lines[-1])
        return data


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped, and the
    largest high-water mark (``VmHWM``) of any one of them.

    A high-water mark is a process's peak: ``wait4``'s ``ru_maxrss`` is not, on Linux,
    because a child starts with its parent's peak at the fork and keeps it across exec, so
    every tool started by this (corpus-holding) process reported at least this process's
    size — 189 MB for a re-run that holds 60.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.hwm_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            todo, total = [self.pid], 0
            while todo:
                pid = todo.pop()
                total += _rss_kb(pid)
                self.hwm_kb = max(self.hwm_kb, _rss_kb(pid, "VmHWM"))
                todo += _children(pid)
            self.peak_kb = max(self.peak_kb, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def measure(cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = PROJECT) -> Run:
    """Run ``cmd`` to completion and measure it (stdout/stderr go through temporary files)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=cwd)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            max_rss_kb=sampler.hwm_kb or int(usage.ru_maxrss),
            tree_rss_kb=max(sampler.peak_kb, sampler.hwm_kb),
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            load=load,
        )


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSINT_")}
    env["PYTHONPATH"] = str(PROJECT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


# --------------------------------------------------------------------------- figures


@dataclass
class Series:
    """Repeated measurements of one thing."""

    label: str
    runs: list[Run] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)

    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    def spread(self) -> str:
        if len(self.runs) < 2:
            return "–"
        return f"{min(r.seconds for r in self.runs):.2f}–{max(r.seconds for r in self.runs):.2f}"

    def cpu(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    def loads(self) -> str:
        low, high = min(r.load for r in self.runs), max(r.load for r in self.runs)
        return f"{low:.1f}" if len(self.runs) < 2 else f"{low:.1f}–{high:.1f}"

    def max_rss_mb(self) -> float:
        return max(r.max_rss_kb for r in self.runs) / MB

    def tree_rss_mb(self) -> float:
        return max(r.tree_rss_kb for r in self.runs) / MB

    def median(self, key: str) -> float:
        return float(statistics.median(float(e[key]) for e in self.extra))

    def last(self, key: str) -> Any:
        return self.extra[-1][key]


# --------------------------------------------------------------------------- collection


def _trafilatura_config(dest: Path) -> Path:
    """trafilatura's own settings with the politeness sleep off and loopback allowed."""
    import trafilatura

    cfg = configparser.ConfigParser()
    cfg.read(Path(trafilatura.__file__).parent / "settings.cfg")
    cfg["DEFAULT"]["SLEEP_TIME"] = "0"
    cfg["DEFAULT"]["SSRF_PROTECTION"] = "off"
    with dest.open("w") as fh:
        cfg.write(fh)
    return dest


def _norm(url: str) -> str:
    return url.rstrip("/")


def _trafilatura_docs(out: Path, pages: set[str]) -> int:
    """How many JSON documents trafilatura wrote for article pages (not for the feeds themselves)."""
    n = 0
    for path in out.rglob("*.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _norm(str(doc.get("source") or doc.get("url") or "")) in pages and (doc.get("text") or ""):
            n += 1
    return n


def _stored(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        rows = dict(con.execute("SELECT extraction, COUNT(*) FROM items GROUP BY extraction").fetchall())
    finally:
        con.close()
    return {str(k): int(v) for k, v in rows.items()}


@dataclass(frozen=True)
class CollectCase:
    """One collection comparison: a corpus, a latency, how trafilatura runs, the goal."""

    name: str
    title: str
    spec: CorpusSpec
    latency: float
    peer_parallel: int | None
    """trafilatura's ``--parallel``; None: its default (the number of cores)."""
    goal_ratio: float
    """The first osint run may take at most this share of trafilatura's time."""
    profile_prefix: str = "collect"
    note: str = ""


def collect_cases(args: argparse.Namespace) -> dict[str, CollectCase]:
    """The cases ``--only`` can name: the default corpus, and issue 10's many-pages-per-host web."""
    return {
        "collect": CollectCase(
            "collect",
            "Collection",
            CorpusSpec(feeds=args.feeds, pages_per_feed=args.pages_per_feed, seed=args.seed),
            args.latency,
            None,
            1.0,
        ),
        "hosts": CollectCase(
            "hosts",
            "Collection: many pages per host, higher latency (issue 10's case)",
            CorpusSpec(feeds=50, pages_per_feed=20, hosts=10, weight=0.3, seed=args.seed),
            0.05,
            16,
            0.6,
            "collect-hosts",
            "The goal compares with trafilatura at its best here: `--parallel 16`, so its downloads"
            " overlap the 50 ms latency as osint's do.",
        ),
    }


class CollectBench:
    """The collection comparison against one served corpus; one :meth:`round` per repetition."""

    def __init__(self, case: CollectCase, corpus: Corpus, server: CorpusServer, work: Path) -> None:
        self.case = case
        self.corpus = corpus
        self.server = server
        self.work = work
        self.first = Series("osint collect, first run")
        self.second = Series("osint collect, second run (nothing new; feeds answer 304)")
        self.unconditional = Series("osint collect, second run, server without ETag/Last-Modified")
        peer = (
            f"trafilatura --feed --parallel {case.peer_parallel}"
            if case.peer_parallel
            else "trafilatura --feed"
        )
        self.peer = Series(f"{peer} (peer)")
        self.rounds = 0
        work.mkdir(parents=True, exist_ok=True)
        self.feeds = work / "feeds.yaml"
        self.feeds.write_text(corpus.feeds_yaml(PROFILE_FILE), encoding="utf-8")
        self.inputs = work / "feeds.txt"
        self.inputs.write_text("\n".join(corpus.feed_urls()) + "\n", encoding="utf-8")
        self.traf_cfg = _trafilatura_config(work / "trafilatura.cfg")
        self.pages = {_norm(corpus.piece_url(p)) for p in corpus.pieces}

    def _osint(self, db: Path, profile_to: Path | None = None) -> Run:
        cmd = [sys.executable]
        if profile_to is not None:
            cmd += ["-m", "cProfile", "-o", str(profile_to)]
        cmd += ["-m", "bench.launch", "osint", "collect", "--feeds", str(self.feeds), "--db", str(db)]
        return measure(cmd, env=_env(OSINT_ENV), cwd=self.work)

    def _run_osint(self, n: int) -> None:
        db = self.work / f"osint-{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        self.server.conditional = True
        self.server.reset_stats()
        run = self._osint(db)
        served = self.server.reset_stats()
        if run.returncode:
            raise RuntimeError(f"osint collect failed:\n{run.stderr[-3000:]}")
        self.first.runs.append(run)
        self.first.extra.append({"pages": served["page:200"], "feeds": served["feed:200"], **_stored(db)})
        run = self._osint(db)
        served = self.server.reset_stats()
        self.second.runs.append(run)
        self.second.extra.append({"pages": served["page:200"], "feeds": served["feed:304"]})
        self.server.conditional = False
        run = self._osint(db)
        served = self.server.reset_stats()
        self.server.conditional = True
        self.unconditional.runs.append(run)
        self.unconditional.extra.append({"pages": served["page:200"], "feeds": served["feed:200"]})
        if sum(_stored(db).values()) != self.first.extra[-1].get("page", 0) + self.first.extra[-1].get(
            "summary", 0
        ):
            raise RuntimeError("a re-run changed the number of stored items")

    def _run_peer(self, n: int) -> None:
        out = self.work / f"trafilatura-{n}"
        self.server.reset_stats()
        run = measure(
            [
                sys.executable,
                "-m",
                "bench.launch",
                "trafilatura",
                "--input-file",
                str(self.inputs),
                "--feed",
                "--output-dir",
                str(out),
                "--config-file",
                str(self.traf_cfg),
                "--with-metadata",
                "--no-comments",
                "--json",
                *(["--parallel", str(self.case.peer_parallel)] if self.case.peer_parallel else []),
            ],
            env=_env(),
            cwd=self.work,
        )
        served = self.server.reset_stats()
        self.peer.runs.append(run)
        self.peer.extra.append(
            {
                "pages": served["page:200"],
                "feeds": served["feed:200"],
                "docs": _trafilatura_docs(out, self.pages),
            }
        )

    def profile_pass(self) -> None:
        """An extra, untimed first and second run under cProfile (the main process only)."""
        db = self.work / "osint-profile.db"
        self._osint(db, PROFILES / f"{self.case.profile_prefix}-first.pstats")
        self._osint(db, PROFILES / f"{self.case.profile_prefix}-second.pstats")
        self.server.reset_stats()

    def round(self) -> None:
        """One repetition; the order alternates so neither tool always runs on a warmer machine."""
        n = self.rounds
        if n % 2 == 0:
            self._run_osint(n)
            self._run_peer(n)
        else:
            self._run_peer(n)
            self._run_osint(n)
        self.rounds += 1


# --------------------------------------------------------------------------- steps


class StepBench:
    """A ``bench.steps`` command repeated; its JSON figures kept per run."""

    def __init__(self, label: str, args: Sequence[str], profile_name: str | None) -> None:
        self.series = Series(label)
        self.args = list(args)
        self.profile_name = profile_name
        self.rounds = 0

    def profile_pass(self) -> None:
        """An extra, untimed run under cProfile."""
        if self.profile_name:
            out = str(PROFILES / f"{self.profile_name}.pstats")
            measure(
                [sys.executable, "-m", "cProfile", "-o", out, "-m", "bench.steps", *self.args], env=_env()
            )

    def round(self) -> None:
        run = measure([sys.executable, "-m", "bench.steps", *self.args], env=_env())
        self.series.extra.append(run.json())
        self.series.runs.append(run)
        self.rounds += 1


# --------------------------------------------------------------------------- report


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import trafilatura

    dirty = " + uncommitted changes" if _git("status", "--porcelain", "--untracked-files=no") else ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short", "HEAD") + dirty,
        "python": platform.python_version(),
        "cores": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "trafilatura": trafilatura.__version__,
        "load": f"{os.getloadavg()[0]:.1f}",
    }


def _goal(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


@dataclass
class Figures:
    machine: dict[str, str]
    collects: list[CollectBench] = field(default_factory=list)
    sort: dict[int, StepBench] = field(default_factory=dict)
    reports: list[StepBench] = field(default_factory=list)
    """The report variants; the first is the goal's case."""
    elapsed: float = 0.0
    profiles: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def corpus_note(corpus: Corpus) -> str:
    spec = corpus.spec
    pages = sorted(len(r.body) for r in corpus.resources.values() if r.kind == "page")
    zipped = sorted(len(r.gzipped or r.body) for r in corpus.resources.values() if r.kind == "page")
    return (
        f"{len(corpus.feeds)} feeds × {spec.pages_per_feed} = {len(pages):,} article pages on"
        f" {len(corpus.outlets)} hosts (median page {statistics.median(pages) / 1024:.0f} KB,"
        f" {statistics.median(zipped) / 1024:.0f} KB gzipped; seed {spec.seed})"
    )


def _collect_section(c: CollectBench, goals: list[tuple[str, str, str]]) -> list[str]:
    first, second, uncond, peer = c.first, c.second, c.unconditional, c.peer
    case = c.case
    stored_page = int(first.median("page")) if "page" in first.extra[-1] else 0
    stored_summary = int(first.median("summary")) if "summary" in first.extra[-1] else 0
    lines = [
        f"## {case.title}",
        "",
        f"Corpus: {corpus_note(c.corpus)}."
        f" Every request waits {case.latency * 1000:.0f} ms before the answer.",
        "osint runs with `OSINT_ALLOW_PRIVATE_NETWORKS=127.0.0.1/32 OSINT_POLITENESS_DELAY=0`;"
        " trafilatura with"
        " its own settings file changed only in `SLEEP_TIME = 0` and `SSRF_PROTECTION = off`, and"
        " `--feed --input-file FEEDS --with-metadata --no-comments --json`"
        + (
            f" `--parallel {case.peer_parallel}`."
            if case.peer_parallel
            else " (its default `--parallel`, the number of cores)."
        )
        + " Both start through `bench/launch.py` (`*.localhost` → 127.0.0.1)."
        f" {len(c.first.runs)} run(s) each, alternating which tool goes first. {case.note}",
        "",
        "| run | median s | min–max | median CPU s | load at start | pages served | result"
        " | peak RSS, largest process | peak RSS, all processes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
        f"| {first.label} | {first.seconds():.2f} | {first.spread()} | {first.cpu():.2f} | {first.loads()} |"
        f" {first.median('pages'):.0f} |"
        f" {stored_page + stored_summary} items stored ({stored_page} from the page,"
        f" {stored_summary} from the feed summary) | {_mb(first.max_rss_mb())} |"
        f" {_mb(first.tree_rss_mb())} |",
        f"| {second.label} | {second.seconds():.2f} | {second.spread()} | {second.cpu():.2f} |"
        f" {second.loads()} | {second.median('pages'):.0f} |"
        f" {second.median('feeds'):.0f} feeds answered 304, nothing stored | {_mb(second.max_rss_mb())} |"
        f" {_mb(second.tree_rss_mb())} |",
        f"| {uncond.label} | {uncond.seconds():.2f} | {uncond.spread()} | {uncond.cpu():.2f} |"
        f" {uncond.loads()} | {uncond.median('pages'):.0f} |"
        f" {uncond.median('feeds'):.0f} feeds parsed again, nothing stored | {_mb(uncond.max_rss_mb())} |"
        f" {_mb(uncond.tree_rss_mb())} |",
        f"| {peer.label} | {peer.seconds():.2f} | {peer.spread()} | {peer.cpu():.2f} | {peer.loads()} |"
        f" {peer.median('pages'):.0f} |"
        f" {peer.median('docs'):.0f} article documents written ({peer.median('feeds'):.0f} feed requests) |"
        f" {_mb(peer.max_rss_mb())} | {_mb(peer.tree_rss_mb())} |",
        "",
        "Pages served are counted by the server during each run. trafilatura fetches every feed twice"
        " (once to find the links, once more as a page to extract) and names its output files by a hash of"
        " their words, so a few syndicated copies with near-identical text land in one file: fewer documents"
        " than pages served does not mean pages were skipped.",
        "CPU is user and system time of the tool's process and every process it waited for (osint's"
        " extraction workers, trafilatura's threads), from `wait4`; on a shared machine it moves less than"
        " wall time, so the CPU ratio below is the steadier comparison.",
        "",
    ]
    ratio = first.seconds() / peer.seconds()
    rerun = second.seconds() / first.seconds()
    rerun_plain = uncond.seconds() / first.seconds()
    lines += [
        "| ratio | value | goal | |",
        "| --- | ---: | ---: | --- |",
        f"| first osint run / trafilatura | {ratio:.2f} | ≤ {case.goal_ratio:g} |"
        f" {_goal(ratio <= case.goal_ratio)} |",
        f"| second run / first run | {rerun:.1%} | < 5 % | {_goal(rerun < 0.05)} |",
        f"| second run without conditional GET / first run | {rerun_plain:.1%} | (no goal) | |",
        f"| CPU: first osint run / trafilatura | {first.cpu() / peer.cpu():.2f} | (no goal) | |",
        f"| CPU: second run / first run | {second.cpu() / first.cpu():.1%} | (no goal) | |",
        "",
    ]
    where = f" ({case.name})"
    goals.append(
        (
            f"first collect ≤ {case.goal_ratio:g} × {peer.label.removesuffix(' (peer)')}{where}",
            f"{ratio:.2f} ×",
            _goal(ratio <= case.goal_ratio),
        )
    )
    goals.append((f"re-run with nothing new < 5 % of the first{where}", f"{rerun:.1%}", _goal(rerun < 0.05)))
    return lines


def _sort_section(f: Figures, goals: list[tuple[str, str, str]]) -> list[str]:
    lines = [
        "## Classification and clustering",
        "",
        "`Classifier` (real profile `countries/mongolia.yaml`) over every item, then `build_stories` over the"
        " relevant ones, called directly in one process; synthetic items from `bench/prose.py` spread over 28"
        " days, with outlets and developments in proportion to the number of items. Generating the items is"
        " not timed.",
        "",
        "| items | runs | relevant | stories (with ≥ 2 items) | copies folded | classify s | cluster s |"
        " total s | RSS before clustering | peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    done = {n: b for n, b in f.sort.items() if b.series.runs}
    for n, b in sorted(done.items()):
        s = b.series
        lines.append(
            f"| {n:,} | {len(s.runs)} | {s.last('relevant'):,} | {s.last('stories'):,}"
            f" ({s.last('multi_item_stories'):,}) | {s.last('copies'):,} | {s.median('classify_s'):.2f} |"
            f" {s.median('cluster_s'):.2f} | {s.median('seconds'):.2f} |"
            f" {_mb(max(e['rss_after_classify_kb'] for e in s.extra) / MB)} | {_mb(s.max_rss_mb())} |"
        )
    if len(done) >= 2:
        lo, hi = sorted(done)[0], sorted(done)[-1]
        a, b2 = done[lo].series, done[hi].series
        r_cls = b2.median("classify_s") / a.median("classify_s")
        r_clu = b2.median("cluster_s") / a.median("cluster_s")
        r_tot = b2.median("seconds") / a.median("seconds")
        lines += [
            f"| {hi:,} / {lo:,} | | | | | {r_cls:.2f} | {r_clu:.2f} | **{r_tot:.2f}** |"
            f" (goal ≤ 2.2: {_goal(r_tot <= 2.2)}) |",
        ]
        goals.append(
            (f"classify + cluster, {hi:,} / {lo:,} items ≤ 2.2", f"{r_tot:.2f}", _goal(r_tot <= 2.2))
        )
        goals.append(
            (
                f"{hi:,} items classified and clustered in well under a minute",
                f"{b2.median('seconds'):.1f} s",
                _goal(b2.median("seconds") < 60),
            )
        )
    return [*lines, ""]


_FORMATS = (("html_s", "HTML"), ("pdf_s", "PDF"), ("md_s", "Markdown"), ("json_s", "JSON"))


def _report_section(f: Figures, goals: list[tuple[str, str, str]]) -> list[str]:
    benches = [b for b in f.reports if b.series.runs]
    n = int(benches[0].series.last("items_in_week"))
    lines = [
        f"## Report for one week of {n:,} items",
        "",
        "`jobs.report.build_report` (load the period from the store, classify what is not classified yet,"
        " cluster, compose with the extractive engine, verify, number citations), then each format rendered"
        " and written, in one process, on a store filled through `Store.record_success`. Columns:"
        " the week with its items classified as `osint collect` leaves them (a report run before the timed"
        " one stores the decisions; this is the goal's case), the week in a store where nothing is"
        " classified yet, and the classified week with four earlier weeks at the same rate in the store,"
        " which a weekly run has and `build_report` reads too.",
        "",
        "| phase | "
        + " | ".join(f"{b.series.label} (median of {len(b.series.runs)})" for b in benches)
        + " |",
        "| --- | " + " | ".join("---:" for _ in benches) + " |",
    ]
    rows = [("analysis_s", "analysis (`build_report`)"), *_FORMATS]
    for key, label in rows:
        lines.append(f"| {label} | " + " | ".join(f"{b.series.median(key):.2f} s" for b in benches) + " |")
    lines.append(
        "| **total** | " + " | ".join(f"**{b.series.median('seconds'):.2f} s**" for b in benches) + " |"
    )
    lines.append(
        "| items considered / relevant / stories / developments | "
        + " | ".join(
            f"{b.series.last('considered'):,} / {b.series.last('relevant'):,} /"
            f" {b.series.last('stories'):,} / {b.series.last('developments')}"
            for b in benches
        )
        + " |"
    )
    lines.append(
        "| PDF size | "
        + " | ".join(f"{b.series.last('sizes')['pdf'] / 1024:,.0f} KB" for b in benches)
        + " |"
    )
    lines.append("| peak RSS | " + " | ".join(_mb(b.series.max_rss_mb()) for b in benches) + " |")
    for i, b in enumerate(benches):
        total = b.series.median("seconds")
        if i == 0 and b is f.reports[0]:
            goal = f"a week of {n:,} items, analysis and all four formats < 10 s"
            goals.append((goal, f"{total:.1f} s", _goal(total < 10)))
        else:
            what = f"the same, {b.series.label} (no goal of its own)"
            goals.append((what, f"{total:.1f} s", "within 10 s" if total < 10 else "over 10 s"))
    return [*lines, ""]


def render_results(f: Figures) -> str:
    m = f.machine
    goals: list[tuple[str, str, str]] = []
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` on {m['date']}: osint {m['commit']}, Python {m['python']},"
        f" {m['cores']} cores ({m['cpu']}), {m['system']}, trafilatura {m['trafilatura']}."
        f" The whole run took {f.elapsed / 60:.1f} minutes; the 1-minute load average was {m['load']} at"
        f" the start and {m.get('load_end', '?')} at the end (a load above about 2 means other work"
        " shared the cores).",
        "Times are wall-clock medians; peak RSS is the largest resident set of one process (its"
        " `VmHWM`, read every 50 ms: `wait4`'s `ru_maxrss` carries this process's own size into every"
        " child on Linux) unless the column says all processes (the process tree, sampled every 50 ms).",
        "",
    ]
    body: list[str] = []
    if f.failures:
        body += [
            "## Failed steps",
            "",
            "These steps failed; their figures are missing or from fewer runs.",
            "",
        ]
        body += ["```", *(line for fail in f.failures for line in fail.splitlines()[-12:]), "```", ""]
    for c in f.collects:
        if all(s.runs for s in (c.first, c.second, c.unconditional, c.peer)):
            body += _collect_section(c, goals)
    if any(b.series.runs for b in f.sort.values()):
        body += _sort_section(f, goals)
    if any(b.series.runs for b in f.reports):
        body += _report_section(f, goals)
    peaks: list[tuple[str, float]] = []
    for c in f.collects:
        peaks += [
            (f"{s.label} ({c.case.name})", s.tree_rss_mb()) for s in (c.first, c.second, c.peer) if s.runs
        ]
    peaks += [(f"sort {n:,} items", b.series.max_rss_mb()) for n, b in f.sort.items() if b.series.runs]
    peaks += [(f"report, {b.series.label}", b.series.max_rss_mb()) for b in f.reports if b.series.runs]
    osint_peaks = [p for p in peaks if "trafilatura" not in p[0]]
    if osint_peaks:
        worst = max(osint_peaks, key=lambda p: p[1])
        goals.append(
            (
                "peak memory of every osint step < 1 GB",
                f"{_mb(worst[1])} ({worst[0]})",
                _goal(worst[1] < 1024),
            )
        )
    lines += ["## Goals (SPEC §5)", "", "| goal | figure | |", "| --- | --- | --- |"]
    lines += [f"| {g} | {v} | {ok} |" for g, v, ok in goals]
    lines += ["", *body]
    if f.profiles:
        lines += [
            "## Profiles",
            "",
            "cProfile summaries (untimed extra runs) written by `make bench PROFILE=1`:",
            "",
        ]
        lines += [f"- `{p}`" for p in f.profiles]
        lines.append("")
    return "\n".join(lines)


def summarise_profiles() -> list[str]:
    """Turn each ``.pstats`` into a short text summary (top functions by cumulative time)."""
    import io
    import pstats

    written = []
    for stats_file in sorted(PROFILES.glob("*.pstats")):
        buf = io.StringIO()
        stats = pstats.Stats(str(stats_file), stream=buf)
        stats.strip_dirs().sort_stats("cumulative").print_stats(25)
        target = stats_file.with_suffix(".txt")
        target.write_text(buf.getvalue(), encoding="utf-8")
        stats_file.unlink()
        written.append(str(target.relative_to(PROJECT)))
    imports = measure([sys.executable, "-X", "importtime", "-c", "import osint.cli"], env=_env())
    rows = []
    for line in imports.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    target = PROFILES / "import-osint-cli.txt"
    target.write_text(
        "python -X importtime -c 'import osint.cli' — cumulative microseconds, largest first\n"
        + "\n".join(f"{us:>10}  {name}" for us, name in rows[:30])
        + "\n",
        encoding="utf-8",
    )
    written.append(str(target.relative_to(PROJECT)))
    return written


# --------------------------------------------------------------------------- main


def _rounds(
    benches: Sequence[tuple[str, Callable[[], None]]], repeat: int, budget: float, t0: float
) -> list[str]:
    """Run every bench once, then more rounds while the budget allows (by each bench's last duration).

    A bench that fails is not run again and its failure is returned, so one broken step
    (in a tree others are editing) still leaves the figures of the others.
    """
    cost: dict[str, float] = {}
    failures: dict[str, str] = {}
    for r in range(repeat):
        for name, fn in benches:
            if name in failures:
                continue
            elapsed = time.perf_counter() - t0
            if r > 0 and elapsed + cost[name] > budget:
                print(f"  {name}: no time for run {r + 1} (budget {budget:.0f} s)", file=sys.stderr)
                continue
            s = time.perf_counter()
            print(f"  {name}: run {r + 1} ...", file=sys.stderr, flush=True)
            try:
                fn()
            except RuntimeError as exc:
                failures[name] = f"{name}, run {r + 1}: {exc}"
                print(f"  {name}: FAILED\n{exc}", file=sys.stderr, flush=True)
            cost[name] = time.perf_counter() - s
    return list(failures.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write bench/results.md.")
    parser.add_argument(
        "--only",
        default="collect,hosts,sort,report",
        help="comma list of collect, hosts (issue 10's collection case), sort, report",
    )
    parser.add_argument("--repeat", type=int, default=3, help="at most this many runs per step")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds; later repeats stop at this")
    parser.add_argument("--feeds", type=int, default=CorpusSpec.feeds)
    parser.add_argument("--pages-per-feed", type=int, default=CorpusSpec.pages_per_feed)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds before each answer")
    parser.add_argument("--items", default="10000,20000", help="item counts for classify + cluster")
    parser.add_argument("--report-items", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=CorpusSpec.seed)
    parser.add_argument(
        "--profile", action="store_true", help="also write cProfile summaries to bench/profiles/"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    t0 = time.perf_counter()
    if args.profile:
        PROFILES.mkdir(parents=True, exist_ok=True)
    figures = Figures(machine=machine())
    benches: list[tuple[str, Callable[[], None]]] = []
    with tempfile.TemporaryDirectory(prefix="osint-bench-") as tmp, contextlib.ExitStack() as stack:
        for name, case in collect_cases(args).items():
            if name in only:
                corpus, server = stack.enter_context(serving(case.spec, case.latency))
                bench = CollectBench(case, corpus, server, Path(tmp) / name)
                figures.collects.append(bench)
                benches.append((name, bench.round))
        if "sort" in only:
            counts = [int(x) for x in args.items.split(",") if x.strip()]
            for n in counts:
                b = StepBench(
                    f"{n:,} items",
                    ["sort", "--items", str(n), "--seed", str(args.seed)],
                    f"sort-{n}" if args.profile and n == min(counts) else None,
                )
                figures.sort[n] = b
                benches.append((f"sort {n}", b.round))
        if "report" in only:
            common = [
                "report",
                "--items",
                str(args.report_items),
                "--seed",
                str(args.seed),
                "--out",
                f"{tmp}/report",
            ]
            variants = [
                ("the week, classified at collect", ["--classified"], "report"),
                ("the week, nothing classified yet", [], None),
                ("the week and 4 earlier weeks, classified", ["--classified", "--history-weeks", "4"], None),
            ]
            for label, extra, prof in variants:
                b = StepBench(label, [*common, *extra], prof if args.profile else None)
                figures.reports.append(b)
                benches.append((f"report: {label}", b.round))
        figures.failures = _rounds(benches, args.repeat, args.budget, t0)
        figures.elapsed = time.perf_counter() - t0
        figures.machine["load_end"] = f"{os.getloadavg()[0]:.1f}"
        end = machine()["commit"]
        if end != figures.machine["commit"]:
            figures.machine["commit"] += f" at the start, {end} at the end (the tree changed during the run)"
        if args.profile:
            print("  profiling (untimed) ...", file=sys.stderr, flush=True)
            for bench in figures.collects:
                bench.profile_pass()
            for step in [*figures.sort.values(), *figures.reports]:
                step.profile_pass()
    if args.profile:
        figures.profiles = summarise_profiles()
    text = render_results(figures)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
