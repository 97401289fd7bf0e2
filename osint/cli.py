"""The ``osint`` command: parses arguments, calls the pipeline, turns errors into messages.

Nothing here does pipeline work. Exit codes: 0 done; 1 a run failed; 2 bad
configuration or an unusable database (nothing could run).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import pipeline
from .classify import Classifier
from .errors import ConfigError, OsintError, StoreError
from .models import SourceResult
from .settings import Settings
from .store import Store

app = typer.Typer(
    help="Automated OSINT weekly security reports: collect feeds, sort, cluster, write, send.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

EXIT_FAILED = 1
EXIT_CONFIG = 2

FeedsOpt = Annotated[
    Path | None, typer.Option("--feeds", help="Sources file [default: feeds.yaml, or OSINT_FEEDS].")
]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="SQLite store [default: data/osint.db, or OSINT_DB].")
]


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:
        raise ConfigError(f"settings: {exc}") from exc


def _fail(exc: OsintError) -> typer.Exit:
    code = EXIT_CONFIG if isinstance(exc, ConfigError | StoreError) else EXIT_FAILED
    err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    return typer.Exit(code)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, markup=False)],
    )
    for noisy in ("httpx", "httpcore", "trafilatura", "htmldate", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def _summary_table(results: list[SourceResult]) -> Table:
    table = Table(title="Collection", title_justify="left")
    table.add_column("Source")
    table.add_column("New", justify="right")
    table.add_column("Known", justify="right")
    table.add_column("Result")
    for r in results:
        if r.error:
            result = f"[red]error:[/] {r.error}"
        elif r.skipped:
            result = f"[yellow]skipped:[/] {r.skipped}"
        elif r.not_modified:
            result = "not modified"
        else:
            result = "ok"
        if r.item_errors:
            result += f" [yellow]({len(r.item_errors)} item(s) failed)[/]"
        table.add_row(r.name, str(r.new_items), str(r.seen_items), result)
    return table


def _collect(settings: Settings, feeds: Path | None, db: Path | None) -> list[SourceResult]:
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("Collecting", total=0)

        def hook(kind: str, n: int) -> None:
            if kind == "total":
                bar.update(task, total=(bar.tasks[0].total or 0) + n)
            elif kind == "advance":
                bar.advance(task, n)

        results = pipeline.collect(settings, feeds_path=feeds, db_path=db, progress=hook)
    out.print(_summary_table(results))
    for r in results:
        for problem in r.item_errors:
            err.print(f"[yellow]item skipped[/] ({r.name}): {problem}", highlight=False)
    failed = sum(1 for r in results if r.error)
    new = sum(r.new_items for r in results)
    out.print(f"{new} new item(s) from {len(results)} source(s); {failed} source(s) failed.")
    return results


@app.command()
def collect(feeds: FeedsOpt = None, db: DbOpt = None) -> None:
    """Fetch all sources, extract new articles, store them; prints a per-source summary."""
    try:
        _collect(_settings(), feeds, db)
    except OsintError as exc:
        raise _fail(exc) from None


def _parse_formats(value: str) -> list[str]:
    return [f.strip().lower() for f in value.split(",") if f.strip()]


@app.command()
def report(
    from_: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (in OSINT_TIMEZONE).")
    ],
    to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, inclusive.")],
    db: DbOpt = None,
    feeds: FeedsOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory [default: reports/].")
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="Comma list of html,pdf,md,json.")
    ] = "html,pdf,md,json",
    engine: Annotated[
        str, typer.Option("--engine", help="extractive (default, offline) or llm.")
    ] = "extractive",
) -> None:
    """Build the report for an inclusive date range from what is stored."""
    try:
        settings = _settings()
        rep = pipeline.build_report(
            settings, from_.date(), to.date(), engine=engine, feeds_path=feeds, db_path=db
        )
        paths = pipeline.write_report(rep, settings, out_dir or settings.out, _parse_formats(format_))
    except OsintError as exc:
        raise _fail(exc) from None
    for p in paths:
        out.print(str(p), highlight=False, soft_wrap=True)


def last_complete_week(today: date) -> tuple[date, date]:
    """Monday..Sunday of the last week that has fully ended before ``today``."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday - timedelta(days=1)


@app.command()
def run(
    feeds: FeedsOpt = None,
    db: DbOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory [default: reports/].")
    ] = None,
) -> None:
    """The cron entry point: collect, then report on the last complete week."""
    try:
        settings = _settings()
        _collect(settings, feeds, db)
        start, end = last_complete_week(datetime.now(settings.zone()).date())
        rep = pipeline.build_report(settings, start, end, feeds_path=feeds, db_path=db)
        paths = pipeline.write_report(rep, settings, out_dir or settings.out, ["html", "pdf", "md", "json"])
    except OsintError as exc:
        raise _fail(exc) from None
    for p in paths:
        out.print(str(p), highlight=False, soft_wrap=True)


@app.command()
def feeds(
    feeds: FeedsOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """The sources and their health."""
    try:
        settings = _settings()
        config = pipeline.load_config(feeds or settings.feeds)
        store = Store.open(db or settings.db)
        try:
            states = store.source_states()
        finally:
            store.close()
    except OsintError as exc:
        raise _fail(exc) from None
    rows = []
    for src in config.feeds.sources:
        st = states.get(src.name)
        status = "disabled" if not src.enabled else (st.status if st else "new")
        rows.append(
            {
                "name": src.name,
                "url": src.url,
                "kind": src.kind,
                "reliability": src.reliability,
                "status": status,
                "last_error": st.last_error if st else None,
                "consecutive_failures": st.consecutive_failures if st else 0,
                "last_success": st.last_success.isoformat() if st and st.last_success else None,
            }
        )
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Sources ({config.feeds_path})", title_justify="left")
    for col in ("Name", "Kind", "Rel.", "Status", "Failures", "Last success", "Last error"):
        table.add_column(col)
    for row in rows:
        color = {"ok": "green", "failing": "red", "disabled": "dim", "new": "yellow"}[str(row["status"])]
        table.add_row(
            str(row["name"]),
            str(row["kind"]),
            str(row["reliability"]),
            f"[{color}]{row['status']}[/]",
            str(row["consecutive_failures"]),
            str(row["last_success"] or "—"),
            str(row["last_error"] or ""),
        )
    out.print(table)


@app.command()
def classify(
    file: Annotated[Path | None, typer.Argument(help="JSON lines {title, text}; stdin when omitted.")] = None,
    feeds: FeedsOpt = None,
) -> None:
    """Relevance, buckets and the evidence for each JSON line read (for tuning the taxonomy)."""
    try:
        settings = _settings()
        config = pipeline.load_config(feeds or settings.feeds)
    except OsintError as exc:
        raise _fail(exc) from None
    classifier = Classifier(config.profile)
    stream = file.open(encoding="utf-8") if file else sys.stdin
    bad = 0
    with stream:
        for lineno, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                title = str(obj.get("title") or "")
                text = str(obj.get("text") or "")
            except ValueError as exc:
                bad += 1
                err.print(f"line {lineno}: skipped, not a JSON object with title/text ({exc})")
                continue
            c = classifier.classify(title, text, obj.get("source_country"))
            sys.stdout.write(json.dumps(c.model_dump(), ensure_ascii=False) + "\n")
    if bad:
        raise typer.Exit(EXIT_FAILED)
