"""The review desk's speed: a week of 2,000 items, its draft page and an edit's round trip.

``python -m bench.desk`` (``make bench`` runs it after the other benchmarks) fills a
store with the same synthetic week as the report benchmark, classifies it as ``osint
collect`` would (untimed), then drives the desk in-process (Starlette's TestClient: the
time is the server's, with no network) and writes ``bench/results-desk.md``:

- the draft page, first (sorting the week into stories, writing the draft) and again
  (the sorted week kept: what an analyst waits for after opening it once);
- an edit's round trip: the POST of an edit to the wording or order (rename), and of an
  edit to the evidence (exclude an item), each followed by the draft page it changed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .steps import REPORT_WEEK, REPORT_ZONE, fill_store, synthetic_pieces

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results-desk.md"
PAGE_GOAL = 1.0
EDIT_GOAL = 0.3
WORDS = ("once", "again", "anew", "afresh", "later", "still", "yet")


CPU: list[float] = []
"""The process's CPU seconds of each timed step, in order (the server runs in a thread of
this process): on a shared machine, wall time also counts the waits for a core."""


def _timed(fn: Callable[[], object]) -> float:
    t, c = time.perf_counter(), time.process_time()
    fn()
    CPU.append(time.process_time() - c)
    return time.perf_counter() - t


def run(items: int, seed: int, repeat: int) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from osint.desk.app import create_app
    from osint.jobs.context import RunContext
    from osint.jobs.report import build_report
    from osint.jobs.users import Users
    from osint.settings import Settings
    from osint.store import Store

    zone = ZoneInfo(REPORT_ZONE)
    first, last = REPORT_WEEK
    period = f"{first.isoformat()}_{last.isoformat()}"
    with tempfile.TemporaryDirectory(prefix="osint-bench-desk-") as tmp:
        db, feeds = Path(tmp) / "bench.db", Path(tmp) / "feeds.yaml"
        fill_store(
            db, feeds, synthetic_pieces(items, seed, datetime.combine(first, datetime.min.time(), zone), 7)
        )
        settings = Settings(db=db, feeds=feeds, timezone=REPORT_ZONE, out=Path(tmp) / "reports")
        with RunContext(settings) as ctx:
            build_report(ctx, first, last)  # classifies and stores the decisions, as a collect does
        with Store.open(db) as store:
            token = Users(store).add("bench", "editor", "bench password") and Users(store).new_token("bench")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings)) as client:
            client.headers.update(headers)

            def page() -> None:
                r = client.get(f"/reports/{period}")
                assert r.status_code == 200, r.text[:300]

            def api_get() -> dict[str, Any]:
                r = client.get(f"/api/reports/{period}")
                assert r.status_code == 200, r.text[:300]
                data = r.json()
                assert isinstance(data, dict)
                return data

            load_before = os.getloadavg()
            first_page = _timed(page)
            warm = [_timed(page) for _ in range(repeat)]
            cpu_warm = CPU[-repeat:]
            doc = api_get()
            devs = doc["developments"]
            assert isinstance(devs, list) and devs
            renames, after_rename, excludes, after_exclude = [], [], [], []
            cpu_rename, cpu_exclude = [], []
            urls = [i["url"] for i in doc["items"]]
            for n in range(repeat):

                def edit(op: dict[str, object]) -> None:
                    r = client.post(f"/api/reports/{period}/edits", json={"edits": [op]})
                    assert r.status_code == 200, r.text[:300]

                title = f"Renamed {WORDS[n % len(WORDS)]}"  # no digits: a number must be in the sources
                renames.append(
                    _timed(partial(edit, {"op": "rename_development", "development": 0, "title": title}))
                )
                after_rename.append(_timed(page))
                cpu_rename.append(CPU[-1] + CPU[-2])
                url = urls[n]
                excludes.append(_timed(partial(edit, {"op": "exclude_item", "url": url, "reason": "bench"})))
                after_exclude.append(_timed(page))
                cpu_exclude.append(CPU[-1] + CPU[-2])
            size = len(client.get(f"/reports/{period}").content)
            load_after = os.getloadavg()
    return {
        "items": items,
        "relevant": len(doc["items"]),
        "stories": doc["coverage"]["stories"],
        "page_bytes": size,
        "first_page_s": first_page,
        "warm_page_s": statistics.median(warm),
        "rename_s": statistics.median(renames),
        "page_after_rename_s": statistics.median(after_rename),
        "exclude_s": statistics.median(excludes),
        "page_after_exclude_s": statistics.median(after_exclude),
        "rename_round_trip_s": statistics.median(r + p for r, p in zip(renames, after_rename, strict=True)),
        "exclude_round_trip_s": statistics.median(
            e + p for e, p in zip(excludes, after_exclude, strict=True)
        ),
        "cpu_warm_page_s": statistics.median(cpu_warm),
        "cpu_rename_round_trip_s": statistics.median(cpu_rename),
        "cpu_exclude_round_trip_s": statistics.median(cpu_exclude),
        "load": (load_before, load_after),
        "cores": os.cpu_count() or 1,
        "repeat": repeat,
    }


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _goal(value: float, goal: float) -> str:
    return "**met**" if value < goal else "**not met**"


def render(f: dict[str, Any]) -> str:
    def s(key: str) -> float:
        value = f[key]
        assert isinstance(value, float)
        return value

    lines = [
        "# Review desk benchmark",
        "",
        f"`python -m bench.desk` on {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: a week of "
        f"{f['items']:,} synthetic items ({f['relevant']:,} relevant, {f['stories']} stories), the desk "
        "driven in-process (server time, no network); medians of "
        f"{f['repeat']} runs except the first page. The draft page is {int(f['page_bytes']) // 1024} KB.",
        "",
        "| step | seconds | goal | |",
        "| --- | ---: | ---: | --- |",
        f"| draft page, first time (sorts the week into stories and writes the draft) | {s('first_page_s'):.2f} | | |",
        f"| draft page, the sorted week kept | {s('warm_page_s'):.3f} | < {PAGE_GOAL:g} | {_goal(s('warm_page_s'), PAGE_GOAL)} |",
        f"| edit round trip: rename a development (POST) | {s('rename_s'):.3f} | < {EDIT_GOAL:g} | {_goal(s('rename_s'), EDIT_GOAL)} |",
        f"| the draft page after that rename | {s('page_after_rename_s'):.3f} | < {PAGE_GOAL:g} | {_goal(s('page_after_rename_s'), PAGE_GOAL)} |",
        f"| edit round trip: exclude an item (POST) | {s('exclude_s'):.3f} | < {EDIT_GOAL:g} | {_goal(s('exclude_s'), EDIT_GOAL)} |",
        f"| the draft page after that exclusion (the engine writes the draft again) | {s('page_after_exclude_s'):.3f} | < {PAGE_GOAL:g} | {_goal(s('page_after_exclude_s'), PAGE_GOAL)} |",
        f"| a form's round trip in the browser, rename: POST and the page it returns to | {s('rename_round_trip_s'):.3f} | < {EDIT_GOAL:g} | {_goal(s('rename_round_trip_s'), EDIT_GOAL)} |",
        f"| the same, exclude an item | {s('exclude_round_trip_s'):.3f} | < {EDIT_GOAL:g} | {_goal(s('exclude_round_trip_s'), EDIT_GOAL)} |",
        "",
        f"Load average (1, 5, 15 min) on {f['cores']} cores: {_load(f['load'][0])} before, {_load(f['load'][1])} after. "
        "CPU seconds of the process (medians): the sorted week's page "
        f"{s('cpu_warm_page_s'):.3f}, the rename round trip {s('cpu_rename_round_trip_s'):.3f}, the exclude "
        f"round trip {s('cpu_exclude_round_trip_s'):.3f} — what the wall times come to when a core is free.",
        "",
        "An edit's POST (the API's round trip) checks the edit against the current draft (kept) and stores it. Edits to wording and "
        "order re-apply the layer to the kept verified draft; an edit to the evidence (exclude, merge, move, "
        "bucket) makes the engine write the draft again from the kept stories, which the page after it pays for. The page keeps each story of its evidence column rendered until something it shows changes.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The review desk's speed on a week of N items.")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    text = render(run(args.items, args.seed, args.repeat))
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
