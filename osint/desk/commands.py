"""``osint serve`` and ``osint users …``: thin commands over the desk (registered in :mod:`osint.cli`).

Errors arrive as :class:`~osint.errors.OsintError` and leave as one line and an exit code.
"""

from __future__ import annotations

import getpass
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import ConfigError, OsintError
from ..jobs.context import RunContext
from ..settings import Settings

if TYPE_CHECKING:
    from ..jobs.users import Users

users_app = typer.Typer(help="Desk users: add, token, list, remove.", no_args_is_help=True)
err = Console(stderr=True)
out = Console()

DbOpt = Annotated[
    Path | None, typer.Option("--db", help="SQLite store [default: data/osint.db, or OSINT_DB].")
]


def _settings(**overrides: object) -> Settings:
    try:
        settings = Settings()
    except Exception as exc:
        raise ConfigError(f"settings: {exc}") from exc
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def _fail(exc: OsintError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    return typer.Exit(2 if isinstance(exc, ConfigError) else 1)


def _users(db: Path | None) -> tuple[RunContext, Users]:
    from ..jobs.users import Users  # here: every other command starts without argon2

    ctx = RunContext(_settings(db=db))
    return ctx, Users(ctx.store)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The user's name (letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="editor (edits and approves) or viewer (reads).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (first line).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Add a desk user; the password is asked for (or read from stdin) and stored hashed (argon2)."""
    from ..jobs.users import ROLES

    if role not in ROLES:
        raise _fail(ConfigError(f"--role {role!r}: choose {' or '.join(ROLES)}"))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            raise _fail(ConfigError("the passwords differ"))
    try:
        ctx, users = _users(db)
        try:
            user = users.add(name, role, password)
        finally:
            ctx.close()
    except OsintError as exc:
        raise _fail(exc) from None
    out.print(f"added {escape(user.name)} ({user.role})", highlight=False)


@users_app.command("token")
def token(name: str, db: DbOpt = None) -> None:
    """Make a new API token for NAME and print it once (only its hash is kept; the old one stops working)."""
    try:
        ctx, users = _users(db)
        try:
            value = users.new_token(name)
        finally:
            ctx.close()
    except OsintError as exc:
        raise _fail(exc) from None
    sys.stdout.write(value + "\n")


@users_app.command("list")
def list_(db: DbOpt = None) -> None:
    """The desk's users and their roles."""
    try:
        ctx, users = _users(db)
        try:
            rows = users.all()
        finally:
            ctx.close()
    except OsintError as exc:
        raise _fail(exc) from None
    table = Table(title="Desk users", title_justify="left")
    for col in ("Name", "Role", "Password", "API token", "Added"):
        table.add_column(col)
    for u in rows:
        table.add_row(
            escape(u.name),
            u.role,
            "set" if u.has_password else "—",
            "set" if u.has_token else "—",
            u.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@users_app.command("remove")
def remove(name: str, db: DbOpt = None) -> None:
    """Remove a user: their sessions and token stop working at once."""
    try:
        ctx, users = _users(db)
        try:
            users.remove(name)
        finally:
            ctx.close()
    except OsintError as exc:
        raise _fail(exc) from None
    out.print(f"removed {escape(name)}", highlight=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOpt = None,
    feeds: Annotated[Path | None, typer.Option("--feeds", help="Sources file [default: feeds.yaml].")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where approved reports are written.")] = None,
    desks: Annotated[
        Path | None,
        typer.Option("--desks", help="Desks file: review every desk's reports apart [default: OSINT_DESKS]."),
    ] = None,
) -> None:
    """The review desk: read, correct and approve each period's draft in a browser (and its JSON API).

    With a desks file (--desks or OSINT_DESKS) every desk is reviewed apart, under
    /desks/NAME: its own sources' items, its own reports folder and archive, its own edits.
    """
    import uvicorn

    from .app import create_app

    try:
        settings = _settings(db=db, feeds=feeds, out=out_dir, desks=desks)
        if settings.desks is not None and (feeds is not None or out_dir is not None):
            raise ConfigError("--feeds and --out are per desk: set them in the desks file")
        behind_tls = (settings.desk_url or "").lower().startswith("https://")
        if not _is_loopback(host) and not behind_tls:
            err.print(
                f"[yellow]warning:[/] serving on {escape(host)} without TLS: passwords and the unpublished "
                "report cross the network in clear. Put the desk behind an HTTPS proxy and set "
                "OSINT_DESK_URL=https://…",
                highlight=False,
            )
        app = create_app(settings)
    except OsintError as exc:
        raise _fail(exc) from None
    err.print(f"desk on http://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=behind_tls)
