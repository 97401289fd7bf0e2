"""The desk's ASGI application: :func:`create_app` wires settings, store, pages and the API.

One store connection serves every request: endpoints are ``async`` and do their
(short, synchronous) work on the event loop thread, so SQLite is used by one thread
only and requests never interleave half-way. The pages are plain HTML from the
project's autoescaped Jinja2 environment; the only script is a few lines served from
this package, and every page works without it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jobs.context import RunContext
from ..jobs.desk import DeskService
from ..jobs.desks import load_desk_list
from ..jobs.users import session_secret
from ..settings import Settings
from ..templating import environment
from . import api, pages
from .auth import Denied, Throttle
from .context import Desk, desk_of

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_AGE = 12 * 3600
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Adds the CSP and friends to every response (pure ASGI, so streaming is untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in dict(SECURITY_HEADERS)]
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def _static(name: str, media: str) -> Callable[[Request], Any]:
    body = (STATIC / name).read_bytes()

    async def endpoint(request: Request) -> Response:
        return Response(body, media_type=media, headers={"cache-control": "max-age=3600"})

    return endpoint


async def _denied(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Denied)
    if request.url.path.startswith("/api/"):
        headers = {"www-authenticate": "Bearer"} if exc.status == 401 else {}
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)
    if exc.status == 401:
        from urllib.parse import quote

        return Response(status_code=303, headers={"location": f"/login?next={quote(request.url.path)}"})
    desk = desk_of(request)
    alternatives = []
    # a page of one desk asked for without its desk: the same page of each desk
    if desk.desks is not None and "desk" not in request.path_params and request.method == "GET":
        alternatives = [(name, f"/desks/{name}{request.url.path}") for name in desk.names]
    return desk.page(request, "error", status=exc.status, message=str(exc), alternatives=alternatives)


def create_app(
    settings: Settings,
    *,
    service: Callable[[RunContext], DeskService] | None = None,
    throttle: Throttle | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    """The desk over ``settings.db``; approved reports are written to ``settings.out``, or,
    with a desks file (``settings.desks``), each desk's to its own directory.

    ``service`` builds the desk's service over the open store (tests give their own
    engine or clock through it); ``throttle`` counts failed sign-ins.
    """
    with RunContext(settings) as ctx:  # migrated, and the session key made, before serving
        secret = session_secret(ctx.store)
    env = environment(settings.templates_dir)
    env.globals["app_static"] = "/static"
    secure = (settings.desk_url or "").lower().startswith("https://")
    desk = Desk(
        settings=settings,
        env=env,
        make_service=service or (lambda ctx: DeskService(ctx, clock=clock)),
        throttle=throttle or Throttle(),
        secure=secure,
        desks=load_desk_list(settings) if settings.desks is not None else None,
    )
    routes = [
        *pages.routes(),
        *api.routes(),
        Route("/static/desk.css", _static("desk.css", "text/css"), methods=["GET"]),
        Route("/static/desk.js", _static("desk.js", "text/javascript"), methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        desk.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="osint_desk",
                max_age=SESSION_AGE,
                same_site="lax",
                https_only=secure,
            ),
        ],
        exception_handlers={Denied: _denied},
        lifespan=lifespan,
    )
    app.state.desk = desk
    return app
