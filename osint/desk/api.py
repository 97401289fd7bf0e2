"""The desk's JSON API, for scripts and other tools: the same operations as the pages.

``Authorization: Bearer <token>`` (``osint users token NAME``) or a session with its
CSRF token in ``X-CSRF-Token``. A viewer reads; an editor edits and approves.

- ``GET /api/reports`` -> ``[{"desk", "period": {"start", "end"}, "status", "changes", "items", "url", …}]``
- ``GET /api/reports/{start}_{end}`` -> the draft as ``report.json`` with its ``review`` block (and ``desk``)

With a desks file every desk's reports are listed (``desk`` names each) and a desk's
report is at ``/api/desks/NAME/reports/{start}_{end}`` (and its edits, undo, approve).
- ``POST /api/reports/{start}_{end}/edits`` ``{"edits": [op, ...]}`` -> ``{"ids": [...], "review": {...}}``
- ``POST /api/reports/{start}_{end}/undo`` ``{"edit": id}``
- ``POST /api/reports/{start}_{end}/approve`` -> ``{"review": {...}, "files": [...], "emailed": [...]}``
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..edits import Op
from ..errors import OsintError, ReviewError
from ..jobs.desk import DraftView, UnsupportedText, parse_ops, review_block
from ..jobs.review import desk_root
from .auth import CSRF_HEADER, check_csrf, require
from .context import desk_of
from .pages import parse_period

MAX_BODY = 256 * 1024


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ReviewError(f"request body over {MAX_BODY // 1024} KB")
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise ReviewError(f"the body is not JSON: {exc}") from None


async def list_reports(request: Request) -> Response:
    desk = desk_of(request)
    require(request, desk.users, "read")
    return JSONResponse(
        [
            {
                "desk": name,
                "period": {"start": p.start.isoformat(), "end": p.end.isoformat()},
                "status": p.state.status,
                "approved_by": p.state.approved_by,
                "approved_at": p.state.approved_at.isoformat() if p.state.approved_at else None,
                "changes": p.state.changes,
                "items": p.items,
                "files": sorted(p.files),
                "url": f"/api{desk_root(name)}/reports/{p.key}",
                "page": f"{desk_root(name)}/reports/{p.key}",
            }
            for name in desk.names
            for p in desk.service(name).periods()
        ]
    )


async def get_report(request: Request) -> Response:
    desk = desk_of(request)
    require(request, desk.users, "read")
    start, end = parse_period(request.path_params["period"])
    try:
        view = desk.service_of(request).draft(start, end)
    except OsintError as exc:
        return _error(400, str(exc))
    return JSONResponse(view.document() | {"desk": request.path_params.get("desk")})


def _resolve(raw: Any, view: DraftView) -> Any:
    """``rename_development`` may name the development by its place (0 first) in the draft."""
    if isinstance(raw, dict) and "development" in raw and "url" not in raw:
        index = raw["development"]
        if not isinstance(index, int) or not 0 <= index < len(view.dev_urls):
            raise ReviewError(f"development {index!r}: the draft has {len(view.dev_urls)} (0 is first)")
        raw = {k: v for k, v in raw.items() if k != "development"} | {"url": view.dev_urls[index]}
    return raw


async def post_edits(request: Request) -> Response:
    desk = desk_of(request)
    user = require(request, desk.users, "edit")
    check_csrf(request, request.headers.get(CSRF_HEADER))
    start, end = parse_period(request.path_params["period"])
    try:
        body = await _json_body(request)
        if not isinstance(body, dict) or "edits" not in body:
            raise ReviewError('expected {"edits": [...]}')
        service = desk.service_of(request)
        view = service.draft(start, end)
        raw = body["edits"]
        ops: list[Op] = parse_ops([_resolve(r, view) for r in raw] if isinstance(raw, list) else raw)
        ids = service.add_edits(start, end, ops, user.name)
    except UnsupportedText as exc:
        return _error(422, str(exc), op=exc.op.op, why=exc.why, needs_confirmation=True)
    except ReviewError as exc:
        return _error(400, str(exc))
    return JSONResponse({"ids": ids, "review": review_block(service.log.state(start, end))})


async def post_undo(request: Request) -> Response:
    desk = desk_of(request)
    user = require(request, desk.users, "edit")
    check_csrf(request, request.headers.get(CSRF_HEADER))
    start, end = parse_period(request.path_params["period"])
    try:
        body = await _json_body(request)
        edit_id = body.get("edit") if isinstance(body, dict) else None
        if not isinstance(edit_id, int):
            raise ReviewError('expected {"edit": <id>}')
        service = desk.service_of(request)
        undo_id = service.undo(start, end, edit_id, user.name)
    except ReviewError as exc:
        return _error(400, str(exc))
    return JSONResponse({"id": undo_id, "review": review_block(service.log.state(start, end))})


async def post_approve(request: Request) -> Response:
    desk = desk_of(request)
    user = require(request, desk.users, "edit")
    check_csrf(request, request.headers.get(CSRF_HEADER))
    start, end = parse_period(request.path_params["period"])
    try:
        view, paths, sent = desk.service_of(request).approve(start, end, user.name)
    except OsintError as exc:
        return _error(400, str(exc))
    return JSONResponse(
        {
            "review": review_block(view.state),
            "files": [str(p) for p in paths],
            "emailed": sent.sent if sent is not None else [],
            "email_error": sent.error if sent is not None else None,
        }
    )


PER_DESK: list[tuple[str, Any, str]] = [
    ("/reports/{period}", get_report, "GET"),
    ("/reports/{period}/edits", post_edits, "POST"),
    ("/reports/{period}/undo", post_undo, "POST"),
    ("/reports/{period}/approve", post_approve, "POST"),
]
"""A desk's reports: under ``/api`` without a desks file, under ``/api/desks/NAME`` with one."""


def routes() -> list[Route]:
    return [
        Route("/api/reports", list_reports, methods=["GET"]),
        *(
            Route(prefix + path, endpoint, methods=[method])
            for prefix in ("/api", "/api/desks/{desk}")
            for path, endpoint, method in PER_DESK
        ),
    ]
