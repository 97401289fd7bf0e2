"""One measured step per process: ``python -m bench.steps sort|report ...`` prints one JSON line.

Each step runs in its own process so its peak memory is its own (the harness reads it
with ``wait4``), and it times only the work the goal is about: generating the
synthetic items and filling the store are set-up, reported separately.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from osint.models import Article, Entry, Item

from .prose import Outlet, Piece, make_outlets, write_pieces

PROJECT = Path(__file__).resolve().parent.parent
PROFILE = PROJECT / "countries" / "mongolia.yaml"
REPORT_WEEK = (date(2026, 3, 7), date(2026, 3, 13))
REPORT_ZONE = "Asia/Ulaanbaatar"


def synthetic_pieces(n: int, seed: int, start: datetime, days: int) -> list[Piece]:
    """About ``n`` articles from ``n/100`` outlets (at least 10), oldest first."""
    rng = random.Random(seed)
    outlets: list[Outlet] = make_outlets(max(10, n // 100), rng)
    per = [n // len(outlets) + (1 if i < n % len(outlets) else 0) for i in range(len(outlets))]
    pieces = [p for row in write_pieces(outlets, per, rng, start, days) for p in row]
    pieces.sort(key=lambda p: (p.published, p.outlet.index, p.number))
    return pieces


def _url(piece: Piece) -> str:
    # .example is reserved (RFC 2606): these items are never fetched.
    return f"https://{piece.outlet.slug}.example/{piece.number}/{piece.slug}"


def synthetic_items(n: int, seed: int, start: datetime, days: int) -> list[Item]:
    """``n`` stored-looking items, as the classifier and clusterer get them from the store."""
    items = []
    for i, p in enumerate(synthetic_pieces(n, seed, start, days), start=1):
        items.append(
            Item(
                id=i,
                url=_url(p),
                source=p.outlet.name,
                title=p.title,
                text=p.text,
                summary=p.lead,
                published=p.published,
                first_seen=p.published,
                language=p.language,
                author=p.author,
                reliability=p.outlet.reliability,
                source_country=p.outlet.country,
            )
        )
    return items


def _rss_kb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def step_sort(n: int, seed: int) -> dict[str, object]:
    """Classify ``n`` items with the real country profile, then cluster the relevant ones."""
    from osint.classify import Classifier
    from osint.cluster import build_stories
    from osint.settings import load_profile

    t0 = time.perf_counter()
    start = datetime(2026, 2, 14, tzinfo=UTC)
    items = synthetic_items(n, seed, start, 28)
    t1 = time.perf_counter()
    rss_items = _rss_kb()
    classifier = Classifier(load_profile(PROFILE))
    t2 = time.perf_counter()
    classified = [
        item.model_copy(
            update={"classification": classifier.classify(item.title, item.text, item.source_country)}
        )
        for item in items
    ]
    t3 = time.perf_counter()
    rss_classified = _rss_kb()
    relevant = [i for i in classified if i.classification is not None and i.classification.relevant]
    stories = build_stories(relevant, classifier.profile)
    t4 = time.perf_counter()
    return {
        "items": len(items),
        "relevant": len(relevant),
        "stories": len(stories),
        "multi_item_stories": sum(1 for s in stories if len(s.item_ids) > 1),
        "copies": sum(len(s.copies) for s in stories),
        "setup_s": t1 - t0,
        "profile_s": t2 - t1,
        "classify_s": t3 - t2,
        "cluster_s": t4 - t3,
        "seconds": t4 - t1,
        "rss_after_items_kb": rss_items,
        "rss_after_classify_kb": rss_classified,
        "rss_kb": _rss_kb(),
    }


def _feeds_yaml(outlets: Sequence[Outlet]) -> str:
    lines = [f"country: {json.dumps(str(PROFILE))}", "sources:"]
    for o in outlets:
        lines += [
            f"  - name: {json.dumps(o.name, ensure_ascii=False)}",
            f"    url: https://{o.slug}.example/feed.xml",
            f"    language: {o.language}",
            f"    reliability: {o.reliability}",
        ]
        if o.country:
            lines.append(f"    country: {o.country}")
    return "\n".join(lines) + "\n"


def fill_store(db: Path, feeds: Path, pieces: Sequence[Piece]) -> None:
    """Store ``pieces`` through the store's own write path, one transaction per outlet."""
    from osint.store import Store

    outlets = list({p.outlet.index: p.outlet for p in pieces}.values())
    feeds.write_text(_feeds_yaml(outlets), encoding="utf-8")
    store = Store.open(db)
    try:
        from osint.settings import load_feeds

        store.sync_sources(load_feeds(feeds).sources)
        by_outlet: dict[int, list[tuple[Entry, Article]]] = {}
        for p in pieces:
            url = _url(p)
            entry = Entry(source=p.outlet.name, url=url, title=p.title, summary=p.lead, published=p.published)
            art = Article(
                url=url, title=p.title, text=p.text, author=p.author, site=p.outlet.name, language=p.language
            )
            by_outlet.setdefault(p.outlet.index, []).append((entry, art))
        for o in outlets:
            store.record_success(o.name, by_outlet[o.index], etag=None, last_modified=None)
    finally:
        store.close()


def step_report(n: int, seed: int, history_weeks: int, out: Path, classified: bool) -> dict[str, object]:
    """A report for one week holding ``n`` items (and ``history_weeks`` earlier weeks as full).

    With ``classified`` the decisions are in the store before the timed report, as
    ``osint collect`` leaves them: an untimed report first classifies and saves them
    through the pipeline's own path (public API only, whatever that path becomes).
    """
    from osint.jobs.context import RunContext
    from osint.jobs.files import write_atomically
    from osint.jobs.report import build_report, report_filename
    from osint.render import FORMATS, render
    from osint.settings import Settings

    zone = ZoneInfo(REPORT_ZONE)
    first, last = REPORT_WEEK
    t0 = time.perf_counter()
    pieces: list[Piece] = []
    for week in range(history_weeks + 1):
        start = datetime.combine(first - timedelta(weeks=week), datetime.min.time(), zone)
        pieces += synthetic_pieces(n, seed + week, start, 7)
    with tempfile.TemporaryDirectory() as tmp:
        db, feeds = Path(tmp) / "bench.db", Path(tmp) / "feeds.yaml"
        fill_store(db, feeds, pieces)
        settings = Settings(db=db, feeds=feeds, timezone=REPORT_ZONE)
        now = datetime(2026, 3, 14, 6, tzinfo=zone)
        if classified:
            # It classifies the week and the weeks before it that the timed report reads.
            with RunContext(settings) as ctx:
                build_report(ctx, first, last, now=now)
        t1 = time.perf_counter()
        with RunContext(settings) as ctx:
            report = build_report(ctx, first, last, now=now)
        t2 = time.perf_counter()
        timings: dict[str, float] = {"analysis_s": t2 - t1}
        sizes: dict[str, int] = {}
        out.mkdir(parents=True, exist_ok=True)
        for fmt in FORMATS:
            s = time.perf_counter()
            data = render(report, fmt, settings.templates_dir, zone)
            write_atomically(out / report_filename(report, fmt), data)
            timings[f"{fmt}_s"] = time.perf_counter() - s
            sizes[fmt] = len(data)
    return {
        "items_in_week": n,
        "history_weeks": history_weeks,
        "classified_before": classified,
        "stored": len(pieces),
        "considered": report.coverage.considered,
        "relevant": report.coverage.items,
        "stories": report.coverage.stories,
        "developments": len(report.developments),
        "annex": len(report.annex),
        "sizes": sizes,
        "setup_s": t1 - t0,
        **timings,
        "seconds": sum(timings.values()),
        "rss_kb": _rss_kb(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one benchmark step and print its figures as JSON.")
    sub = parser.add_subparsers(dest="step", required=True)
    s = sub.add_parser("sort", help="classify + cluster N synthetic items")
    s.add_argument("--items", type=int, required=True)
    s.add_argument("--seed", type=int, default=7)
    r = sub.add_parser("report", help="build and render the report for a week of N items")
    r.add_argument("--items", type=int, default=2000)
    r.add_argument("--history-weeks", type=int, default=0)
    r.add_argument("--seed", type=int, default=7)
    r.add_argument("--classified", action="store_true", help="decisions stored before the timed report")
    r.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / f"osint-bench-{os.getpid()}")
    args = parser.parse_args(argv)
    if args.step == "sort":
        result = step_sort(args.items, args.seed)
    else:
        result = step_report(args.items, args.seed, args.history_weeks, args.out, args.classified)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
