"""What every endpoint of the desk shares: :class:`Desk`, reached from a request by :func:`desk_of`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..jobs.context import RunContext
from ..settings import Settings
from ..store import Store
from .auth import Throttle, csrf_token, current_user
from .service import DeskService
from .users import Users


@dataclass
class Desk:
    """What every endpoint needs: settings, the store, users, the service, templates.

    The store is opened on first use, by the thread that serves requests (SQLite
    connections belong to the thread that made them).
    """

    settings: Settings
    env: jinja2.Environment
    make_service: Callable[[RunContext], DeskService]
    throttle: Throttle = field(default_factory=Throttle)
    secure: bool = False
    _ctx: RunContext | None = None
    _service: DeskService | None = None

    @property
    def ctx(self) -> RunContext:
        """The run context of the serving thread: the store opened once, configuration read once."""
        if self._ctx is None:
            self._ctx = RunContext(self.settings)
        return self._ctx

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def users(self) -> Users:
        return Users(self.store)

    @property
    def service(self) -> DeskService:
        if self._service is None:
            self._service = self.make_service(self.ctx)
        return self._service

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
            self._service = None

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("notice", None)
        context.setdefault("error", None)
        html = self.env.get_template(f"desk/{name}.html.j2").render(
            request=request,
            user=current_user(request, self.users),
            csrf=csrf_token(request),
            **context,
        )
        return HTMLResponse(html, status_code=status)


def desk_of(request: Request) -> Desk:
    desk = request.app.state.desk
    assert isinstance(desk, Desk)
    return desk
