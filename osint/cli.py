"""The ``osint`` command: parses arguments, calls a job, prints its outcome, turns errors into messages.

Nothing here does pipeline work: each command builds its settings (the environment
plus the command's options, :meth:`Settings.with_overrides`), opens a
:class:`~osint.jobs.context.RunContext` and calls one job of :mod:`osint.jobs`. Jobs that
analyse, render or send are imported inside their commands, so ``osint collect`` loads
no analysis, rendering or LLM code. Exit codes: 0 done; 1 a run failed (for ``run``: the
report could not be built); 2 bad configuration or an unusable database (nothing could
run); 3 the report was built but not (or not to everyone) emailed; 4 another run holds
the lock (nothing was done).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from .errors import BusyError, ConfigError, OsintError, StoreError
from .jobs.collect import collect as collect_job
from .jobs.context import Config, RunContext
from .models import SourceResult, SourceState
from .settings import Settings
from .stats import Stats

if TYPE_CHECKING:
    from rich.progress import Progress

    from .jobs.send import SendOutcome

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
EXIT_NOT_SENT = 3
EXIT_BUSY = 4

FeedsOpt = Annotated[
    Path | None, typer.Option("--feeds", help="Sources file [default: feeds.yaml, or OSINT_FEEDS].")
]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="SQLite store [default: data/osint.db, or OSINT_DB].")
]
DesksOpt = Annotated[
    Path | None,
    typer.Option("--desks", help="Desks file: several countries from one store [default: OSINT_DESKS]."),
]
DeskOpt = Annotated[str | None, typer.Option("--desk", help="Only this desk of the desks file.")]


def _settings(**options: object) -> Settings:
    """The environment's settings with the command's options (``None``: not given) applied."""
    try:
        settings = Settings()
    except Exception as exc:
        raise ConfigError(f"settings: {exc}") from exc
    return settings.with_overrides(**options)


def _fail(exc: OsintError) -> typer.Exit:
    code = EXIT_CONFIG if isinstance(exc, ConfigError | StoreError) else EXIT_FAILED
    if isinstance(exc, BusyError):
        code = EXIT_BUSY
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
            result = f"[red]error:[/] {escape(r.error)}"
        elif r.skipped:
            result = f"[yellow]skipped:[/] {escape(r.skipped)}"
        elif r.not_modified:
            result = "not modified"
        else:
            result = "ok"
        if r.item_errors:
            result += f" [yellow]({len(r.item_errors)} item(s) failed)[/]"
        table.add_row(escape(r.name), str(r.new_items), str(r.seen_items), result)
    return table


class _Bar:
    """A progress bar on a terminal (``bar``; ``None``: nothing), fed by the collector and the weekly job."""

    def __init__(self, bar: Progress | None) -> None:
        self._bar = bar
        self._task = bar.add_task("collecting", total=0) if bar is not None else None

    def hook(self, kind: str, n: int) -> None:
        """The collector's progress hook: work found ("total") and done ("advance")."""
        if self._bar is None or self._task is None:
            return
        if kind == "total":
            self._bar.update(self._task, total=(self._bar.tasks[0].total or 0) + n)
        elif kind == "advance":
            self._bar.advance(self._task, n)

    def step(self, name: str) -> None:
        """The weekly job's step, shown as the bar's label."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=name)


@contextmanager
def _progress() -> Iterator[_Bar]:
    """A bar on stderr when it is a terminal; from cron, a pipe or a test, none (and rich's
    progress module is not even loaded)."""
    if not err.is_terminal:
        yield _Bar(None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        yield _Bar(bar)


def _print_collection(results: list[SourceResult], stats: Stats) -> None:
    """The per-source table and problems, then the run's totals (from its stats record)."""
    out.print(_summary_table(results))
    for r in results:
        for problem in r.item_errors:
            err.print(f"[yellow]item skipped[/] ({escape(r.name)}): {escape(problem)}", highlight=False)
        for warning in r.warnings:
            err.print(f"[yellow]warning[/] ({escape(r.name)}): {escape(warning)}", highlight=False)
    new, sources = stats.count("collect/new_items"), stats.count("collect/sources")
    failed = stats.count("collect/sources/failed")
    out.print(f"{new} new item(s) from {sources} source(s); {failed} source(s) failed.")


def _print_checks(stats: Stats) -> None:
    """What verification did to the report's draft (stderr: stdout lists the paths written)."""
    dropped = stats.count("verify/dropped")
    reasons = stats.under("verify/dropped")
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.items())
    if sum(n for n in reasons.values() if isinstance(n, int)) > dropped:
        why += "; a sentence that failed several checks is counted under each"
    err.print(
        f"{stats.count('verify/checked')} sentence(s) checked against their sources, {dropped} dropped"
        + (f" ({why})" if why else "")
        + ".",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def collect(feeds: FeedsOpt = None, db: DbOpt = None) -> None:
    """Fetch all sources, extract new articles, store them; prints a per-source summary."""
    try:
        with RunContext(_settings(feeds=feeds, db=db)) as ctx, _progress() as bar:
            results = collect_job(ctx, progress=bar.hook)
    except OsintError as exc:
        raise _fail(exc) from None
    _print_collection(results, ctx.stats)


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
    from .jobs.report import report as report_job

    if engine == "llm":  # a model may take minutes: say what each call did (on stderr)
        logging.getLogger("osint.analyse.llm").setLevel(logging.INFO)
    try:
        settings = _settings(feeds=feeds, db=db, out=out_dir, engine=engine)
        with RunContext(settings) as ctx:
            paths = report_job(ctx, from_.date(), to.date(), _parse_formats(format_))
    except OsintError as exc:
        raise _fail(exc) from None
    _print_checks(ctx.stats)
    for p in paths:
        out.print(str(p), highlight=False, soft_wrap=True)


OutOpt = Annotated[Path | None, typer.Option("--out", help="Output directory [default: reports/].")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Email recipients who were sent this report before, again.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Write the message as <report>.eml beside the report; send nothing.")
]


def _print_send(outcome: SendOutcome) -> bool:
    """One line per recipient outcome; whether everyone configured has the report."""
    if outcome.eml is not None:
        out.print(
            f"dry run: message written to {outcome.eml} (nothing sent)", highlight=False, soft_wrap=True
        )
        return True
    if outcome.sent:
        out.print(f"emailed {outcome.report} to {', '.join(outcome.sent)}", highlight=False, soft_wrap=True)
    if outcome.already:
        out.print(
            f"{outcome.report} was sent before to {', '.join(outcome.already)}; not again (--force resends)",
            highlight=False,
            soft_wrap=True,
        )
    if outcome.pdf_omitted_at:
        err.print(
            f"[yellow]warning:[/] the PDF was too large for the mail server and was not attached; "
            f"the message says where it is: {outcome.pdf_omitted_at}",
            highlight=False,
            soft_wrap=True,
        )
    if outcome.error:
        err.print(
            f"[bold red]error:[/] {outcome.report} not sent: {outcome.error}", highlight=False, soft_wrap=True
        )
    for recipient, why in outcome.refused.items():
        err.print(
            f"[bold red]error:[/] {recipient} refused {outcome.report}: {why}",
            highlight=False,
            soft_wrap=True,
        )
    return outcome.complete


@app.command()
def run(
    feeds: FeedsOpt = None,
    db: DbOpt = None,
    out_dir: OutOpt = None,
    week_of: Annotated[
        datetime | None,
        typer.Option(
            "--week-of",
            formats=["%Y-%m-%d"],
            help="Report on the week that holds this day instead of the last complete week.",
        ),
    ] = None,
    no_email: Annotated[
        bool, typer.Option("--no-email", help="Build the report but do not email it.")
    ] = False,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="extractive or llm [default: OSINT_ENGINE, else extractive]."),
    ] = None,
    desks: DesksOpt = None,
    desk: DeskOpt = None,
) -> None:
    """The cron entry point: collect, report on the last complete week, email it if mail is configured.

    With a desks file (--desks or OSINT_DESKS) every desk is run, or only --desk NAME:
    the sources of all desks are collected once, then each desk's report is written into
    its own directory and emailed to its own recipients.

    Exit codes: 0 done; 1 the report (of a desk) could not be built; 2 bad configuration;
    3 built but not emailed (to everyone); 4 another run is in progress.
    """
    from .jobs.weekly import run_weekly

    try:
        settings = _settings(feeds=feeds, db=db, out=out_dir, engine=engine, desks=desks)
        if settings.desks is not None or desk is not None:
            if feeds is not None or out_dir is not None:
                raise ConfigError("--feeds and --out are per desk: set them in the desks file")
            _run_desks(settings, desk, week_of.date() if week_of else None, not no_email, force, dry_run)
            return
        with RunContext(settings) as ctx, _progress() as bar:
            outcome = run_weekly(
                ctx,
                week_of=week_of.date() if week_of else None,
                email=not no_email,
                force=force,
                dry_run=dry_run,
                progress=bar.hook,
                on_step=bar.step,
            )
    except OsintError as exc:
        raise _fail(exc) from None
    _print_collection(outcome.collected, ctx.stats)
    _print_checks(ctx.stats)
    start, end = outcome.period
    out.print(f"report for {start} to {end}:", highlight=False)
    for p in [*outcome.paths, *outcome.archive]:
        out.print(str(p), highlight=False, soft_wrap=True)
    if outcome.mail_skipped:
        out.print(f"not emailed: {outcome.mail_skipped}", highlight=False)
    if outcome.send is not None and not _print_send(outcome.send):
        raise typer.Exit(EXIT_NOT_SENT)


def _run_desks(
    settings: Settings, only: str | None, week_of: date | None, email: bool, force: bool, dry_run: bool
) -> None:
    """``osint run`` with a desks file: every desk (or one), one collection, a report per desk."""
    from .jobs.desks import load_desk_list, run_desks

    desks = load_desk_list(settings, only)
    with RunContext(settings) as ctx, _progress() as bar:
        outcome = run_desks(
            ctx,
            desks,
            week_of=week_of,
            email=email,
            force=force,
            dry_run=dry_run,
            progress=bar.hook,
            on_step=bar.step,
        )
    _print_collection(outcome.collected, ctx.stats)
    delivered = True
    for result in outcome.desks:
        start, end = result.weekly.period
        if result.error is not None:
            err.print(
                f"[bold red]error:[/] desk {escape(result.desk)}: report for {start} to {end} not built: "
                f"{escape(result.error)}",
                highlight=False,
                soft_wrap=True,
            )
            continue
        out.print(f"desk {result.desk}: report for {start} to {end}:", highlight=False)
        for p in [*result.weekly.paths, *result.weekly.archive]:
            out.print(str(p), highlight=False, soft_wrap=True)
        if result.weekly.mail_skipped:
            out.print(f"not emailed: {result.weekly.mail_skipped}", highlight=False)
        if result.weekly.send is not None:
            delivered = _print_send(result.weekly.send) and delivered
    if outcome.failed:
        raise typer.Exit(EXIT_FAILED)
    if not delivered:
        raise typer.Exit(EXIT_NOT_SENT)


@app.command()
def send(
    files: Annotated[
        list[Path],
        typer.Argument(help="A report's file (any format, or its JSON); several reports may be given."),
    ],
    db: DbOpt = None,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Email already built reports to OSINT_MAIL_TO (HTML body, plain text, the PDF attached).

    Each report goes once to each recipient; the store remembers, and --force sends again.
    Exit 3 when a report was not sent to everyone.
    """
    from .jobs.send import send as send_job

    complete = True
    try:
        with RunContext(_settings(db=db)) as ctx:
            for outcome in send_job(ctx, files, force=force, dry_run=dry_run):
                complete = _print_send(outcome) and complete
    except OsintError as exc:
        raise _fail(exc) from None
    if not complete:
        raise typer.Exit(EXIT_NOT_SENT)


@app.command(name="schedule")
def schedule_(
    feeds: FeedsOpt = None, db: DbOpt = None, out_dir: OutOpt = None, desks: DesksOpt = None
) -> None:
    """Run the weekly job in this process at OSINT_SCHEDULE (cron syntax) in OSINT_TIMEZONE.

    With a desks file (--desks or OSINT_DESKS) each run is every desk's, as ``osint run --desks``.

    A run missed while the machine was off or asleep happens once at start. Stops on
    SIGTERM or Ctrl-C after the run in progress, if any, has finished.
    """
    from .schedule import run_scheduler

    logging.getLogger("osint").setLevel(logging.INFO)

    def ready(when: datetime | None) -> None:
        err.print(f"scheduler started; next run at {when.isoformat() if when else 'never'}", highlight=False)

    try:
        run_scheduler(_settings(feeds=feeds, db=db, out=out_dir, desks=desks), on_ready=ready)
    except OsintError as exc:
        raise _fail(exc) from None
    err.print("scheduler stopped", highlight=False)


@app.command()
def feeds(
    feeds: FeedsOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    desks: DesksOpt = None,
    desk: DeskOpt = None,
) -> None:
    """The sources and their health (with a desks file: each desk's own, or --desk NAME's)."""
    try:
        settings = _settings(feeds=feeds, db=db, desks=desks)
        with RunContext(settings) as ctx:
            if settings.desks is not None or desk is not None:
                from .jobs.desks import load_desk_list

                configs = [d.config for d in load_desk_list(settings, desk)]
            else:
                configs = [ctx.config]
            states = ctx.store.source_states()
    except OsintError as exc:
        raise _fail(exc) from None
    tables = [(config, _feed_rows(config, states)) for config in configs]
    if as_json:  # one list; with desks, each row says its desk
        rows = [row for _config, desk_rows in tables for row in desk_rows]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    for config, rows in tables:
        _print_feed_table(config, rows)


def _feed_rows(config: Config, states: dict[str, SourceState]) -> list[dict[str, object]]:
    """One desk's (or the feeds file's) sources with their health."""
    rows: list[dict[str, object]] = []
    for src in config.feeds.sources:
        st = states.get(src.name)
        status = "disabled" if not src.enabled else (st.status if st else "new")
        rows.append(
            {
                **({"desk": config.desk} if config.desk else {}),
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
    return rows


def _print_feed_table(config: Config, rows: list[dict[str, object]]) -> None:
    desk = f"desk {config.desk}: " if config.desk else ""
    table = Table(title=f"{desk}Sources ({config.feeds_path})", title_justify="left")
    for col in ("Name", "Kind", "Rel.", "Status", "Failures", "Last success", "Last error"):
        table.add_column(col)
    for row in rows:
        color = {"ok": "green", "failing": "red", "disabled": "dim", "new": "yellow"}[str(row["status"])]
        table.add_row(
            escape(str(row["name"])),
            str(row["kind"]),
            str(row["reliability"]),
            f"[{color}]{row['status']}[/]",
            str(row["consecutive_failures"]),
            str(row["last_success"] or "—"),
            escape(str(row["last_error"] or "")),
        )
    out.print(table)


@app.command()
def classify(
    file: Annotated[Path | None, typer.Argument(help="JSON lines {title, text}; stdin when omitted.")] = None,
    feeds: FeedsOpt = None,
) -> None:
    """Relevance, buckets and the evidence for each JSON line read (for tuning the taxonomy)."""
    from .jobs.tuning import classify_lines

    bad = 0
    stream = file.open(encoding="utf-8") if file else sys.stdin
    try:
        with RunContext(_settings(feeds=feeds)) as ctx, stream:
            for lineno, result in classify_lines(ctx, stream):
                if isinstance(result, str):
                    bad += 1
                    err.print(f"line {lineno}: skipped, {result}")
                else:
                    sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False) + "\n")
    except OsintError as exc:
        raise _fail(exc) from None
    if bad:
        raise typer.Exit(EXIT_FAILED)


db_app = typer.Typer(help="The SQLite store: its migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("status")
def db_status(db: DbOpt = None) -> None:
    """List the store's migrations by name: applied (with when) or pending; nothing is changed.

    Pending migrations are applied by the next command that opens the store.
    """
    from .jobs.db import migration_status

    try:
        settings = _settings(db=db)
        states = migration_status(settings)
    except OsintError as exc:
        raise _fail(exc) from None
    table = Table(title=f"Migrations ({settings.db})", title_justify="left")
    for col in ("Migration", "Status", "Applied at (UTC)"):
        table.add_column(col)
    shown = {
        "applied": "[green]applied[/]",
        "pending": "[yellow]pending[/]",
        "unknown": "[red]unknown[/] (from a newer osint?)",
    }
    for st in states:
        when = st.applied_at.isoformat() if st.applied_at else "—"
        table.add_row(escape(st.name), shown[st.status], when)
    out.print(table)
    applied = sum(1 for st in states if st.status != "pending")
    pending = sum(1 for st in states if st.status == "pending")
    out.print(f"{applied} applied, {pending} pending.", highlight=False)


def _desk_commands() -> None:
    """``osint serve`` and ``osint users``: the review desk's commands live beside the desk."""
    from .desk.commands import serve, users_app

    app.command(name="serve")(serve)
    app.add_typer(users_app, name="users")


_desk_commands()
