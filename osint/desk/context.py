"""What every endpoint of the desk shares: :class:`Desk`, reached from a request by :func:`desk_of`.

With a desks file the desk serves every desk of it: each desk's pages are under
``/desks/NAME`` (its API under ``/api/desks/NAME``), each with its own service over the
one store — its own sources' items, output directory and archive, and review record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..jobs.context import RunContext
from ..jobs.desk import DeskService
from ..jobs.desks import Desk as DeskConfig
from ..jobs.review import desk_root
from ..jobs.users import Users
from ..settings import Settings
from .auth import Denied, Throttle, csrf_token, current_user


@dataclass
class Desk:
    """What every endpoint needs: settings, the store, users, the services, templates.

    The store is opened on first use, by the thread that serves requests (SQLite
    connections belong to the thread that made them). ``desks`` are the desks of a desks
    file (None: one installation's feeds file and reports folder, pages at the root).
    """

    settings: Settings
    env: jinja2.Environment
    make_service: Callable[[RunContext], DeskService]
    throttle: Throttle = field(default_factory=Throttle)
    secure: bool = False
    desks: Sequence[DeskConfig] | None = None
    _ctx: RunContext | None = None
    _services: dict[str | None, DeskService] = field(default_factory=dict)

    @property
    def ctx(self) -> RunContext:
        """The run context of the serving thread: the store opened once, configuration read once."""
        if self._ctx is None:
            self._ctx = RunContext(self.settings)
        return self._ctx

    @property
    def users(self) -> Users:
        return Users(self.ctx.store)

    @property
    def names(self) -> list[str | None]:
        """The desks served, by name (one unnamed desk without a desks file)."""
        return [d.name for d in self.desks] if self.desks is not None else [None]

    def service(self, name: str | None = None) -> DeskService:
        """The service of the desk ``name`` (None: the only one); 404 for a desk not served."""
        if name not in self._services:
            if self.desks is None:
                if name is not None:
                    raise Denied(404, f"no desk {name!r}: this review desk serves one feeds file")
                ctx = self.ctx
            else:
                chosen = next((d for d in self.desks if d.name == name), None)
                if chosen is None:
                    served = ", ".join(d.name for d in self.desks)
                    where = "choose one" if name is None else f"there is no desk {name!r}"
                    raise Denied(404, f"this review desk serves the desks {served}: {where}, at /desks/NAME")
                ctx = self.ctx.for_desk(chosen.settings, chosen.config)
            self._services[name] = self.make_service(ctx)
        return self._services[name]

    def service_of(self, request: Request) -> DeskService:
        """The service of the desk the request's path names (``/desks/NAME/…``)."""
        return self.service(request.path_params.get("desk"))

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
            self._services = {}

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("notice", None)
        context.setdefault("error", None)
        desk = request.path_params.get("desk")
        html = self.env.get_template(f"desk/{name}.html.j2").render(
            request=request,
            user=current_user(request, self.users),
            csrf=csrf_token(request),
            desk=desk,
            root=desk_root(desk),
            desks=[n for n in self.names if n is not None],
            **context,
        )
        return HTMLResponse(html, status_code=status)


def desk_of(request: Request) -> Desk:
    desk = request.app.state.desk
    assert isinstance(desk, Desk)
    return desk
