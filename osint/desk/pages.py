"""The desk's HTML pages and forms: periods, a draft with its evidence, items, sources, the trail.

Every change is a POST of a plain form carrying the session's CSRF token, answered with
a redirect back to where the analyst was (an anchor on the draft page), so the pages
work with JavaScript off and the browser's back button and reload do what one expects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..edits import SECTION_LABELS, SECTIONS
from ..errors import OsintError, ReviewError
from ..jobs.desk import DraftView, UnsupportedText
from ..jobs.review import desk_root
from ..models import BUCKETS, Story
from .auth import SESSION_USER, Denied, check_csrf, csrf_token, current_user, require, safe_next
from .context import Desk, desk_of
from .forms import op_from_form


def parse_period(value: str) -> tuple[date, date]:
    start, sep, end = value.partition("_")
    try:
        if not sep:
            raise ValueError(value)
        return date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise Denied(404, f"no period {value!r}: expected YYYY-MM-DD_YYYY-MM-DD") from None


def _form(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login_page(request: Request) -> Response:
    return desk_of(request).page(request, "login", next=safe_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    desk = desk_of(request)
    form = _form(await request.form())
    check_csrf(request, form.get("csrf"))
    name = form.get("name", "").strip()
    target = safe_next(form.get("next"))
    keys = (f"user:{name.lower()}", f"addr:{_client(request)}")
    wait = desk.throttle.retry_after(*keys)
    if wait is not None:
        page = desk.page(
            request,
            "login",
            status=429,
            next=target,
            error=f"Too many failed sign-ins; try again in {wait} s.",
        )
        page.headers["retry-after"] = str(wait)
        return page
    user = desk.users.check_password(name, form.get("password", ""))
    if user is None:
        desk.throttle.failed(*keys)
        return desk.page(request, "login", status=400, next=target, error="Unknown name or wrong password.")
    desk.throttle.succeeded(keys[0])
    request.session.clear()  # a new session on sign-in: no fixation
    request.session[SESSION_USER] = user.name
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = _form(await request.form())
    check_csrf(request, form.get("csrf"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def periods(request: Request) -> Response:
    """Every desk's periods (``/``), or one desk's (``/desks/NAME``)."""
    desk = desk_of(request)
    require(request, desk.users, "read")
    shown = [request.path_params["desk"]] if "desk" in request.path_params else desk.names
    groups = [(name, desk_root(name), desk.service(name).periods()) for name in shown]
    return desk.page(request, "periods", groups=groups)


def _root(request: Request) -> str:
    return desk_root(request.path_params.get("desk"))


def _draft_context(view: DraftView, desk: Desk, request: Request) -> dict[str, Any]:
    cited_by: dict[int, list[int]] = {}
    for a in view.report.annex:
        cited_by.setdefault(a.item_id, []).append(a.number)
    context: dict[str, Any] = {
        "v": view,
        "r": view.report,
        "sections": [(s, SECTION_LABELS[s]) for s in SECTIONS],
        "buckets": BUCKETS,
        "cited": cited_by,
        "summary": view.summary,
        "story_of_dev": {d.story_id: n for n, d in enumerate(view.report.developments)},
    }
    user = current_user(request, desk.users)
    context["story_html"] = _story_renderer(
        view,
        desk,
        context,
        can_edit=bool(user and user.can_edit),
        csrf=csrf_token(request),
        root=_root(request),
    )
    return context


def _story_renderer(
    view: DraftView, desk: Desk, context: dict[str, Any], *, can_edit: bool, csrf: str, root: str
) -> Callable[[Story], Markup]:
    """One story of the evidence column as HTML, kept with the period's sorted evidence while
    nothing it shows changes (its items, their citation numbers, its development's number,
    who is asking): an edit re-renders the stories it touched, not the week's hundreds."""
    template = desk.env.get_template("desk/story.html.j2")
    cited, devs, new = context["cited"], context["story_of_dev"], view.new_since_review
    fragments = view.fragments
    if len(fragments) > 5000:
        fragments.clear()

    def render(st: Story) -> Markup:
        key = (
            view.key, root, csrf, can_edit, st.id, tuple(st.item_ids), st.canonical_id, tuple(st.buckets),
            st.score, st.status, len(st.outlets), tuple(sorted(st.copies)), devs.get(st.id),
            tuple(tuple(cited.get(i, ())) for i in st.item_ids), tuple(i in new for i in st.item_ids),
        )  # fmt: skip
        html = fragments.get(key)
        if html is None:
            html = fragments[key] = Markup(
                template.render(st=st, can_edit=can_edit, csrf=csrf, root=root, **context)
            )
        return html

    return render


async def draft(request: Request) -> Response:
    desk = desk_of(request)
    require(request, desk.users, "read")
    start, end = parse_period(request.path_params["period"])
    try:
        view = desk.service_of(request).draft(start, end)
    except OsintError as exc:
        return desk.page(request, "error", status=400, message=str(exc))
    error = request.session.pop("flash_error", None)
    notice = request.session.pop("flash", None)
    return desk.page(
        request,
        "draft",
        error=error,
        notice=notice,
        mail=desk.settings.mail_configured(),
        **_draft_context(view, desk, request),
    )


async def item_page(request: Request) -> Response:
    desk = desk_of(request)
    require(request, desk.users, "read")
    start, end = parse_period(request.path_params["period"])
    view = desk.service_of(request).draft(start, end)
    item = view.all_items.get(int(request.path_params["item_id"]))
    if item is None:
        raise Denied(404, "no such item in this period")
    story = next((s for s in view.evidence.stories if item.id in s.item_ids), None)
    return desk.page(
        request,
        "item",
        v=view,
        item=item,
        story=story,
        summary=view.summary(item),
        cited=[a.number for a in view.report.annex if a.item_id == item.id],
    )


async def edit(request: Request) -> Response:
    desk = desk_of(request)
    user = require(request, desk.users, "edit")
    form = _form(await request.form())
    check_csrf(request, form.get("csrf"))
    start, end = parse_period(request.path_params["period"])
    back = f"{_root(request)}/reports/{start}_{end}" + _anchor(form.get("back", ""))
    try:
        service = desk.service_of(request)
        view = service.draft(start, end)
        op = op_from_form(form, view)
        service.add_edits(start, end, [op], user.name)
    except UnsupportedText as exc:
        fields = {k: v for k, v in form.items() if k not in ("csrf", "confirmed")}
        return desk.page(request, "confirm", status=422, why=exc.why, op=exc.op, fields=fields, back=back)
    except ReviewError as exc:
        request.session["flash_error"] = str(exc)
        return RedirectResponse(back, status_code=303)
    request.session["flash"] = f"Saved: {op.op.replace('_', ' ')}."
    return RedirectResponse(back, status_code=303)


def _anchor(value: str) -> str:
    """``#dev-3`` style anchors only: the form says where to come back to on the page."""
    return value if value.startswith("#") and value[1:].replace("-", "").isalnum() else ""


async def undo(request: Request) -> Response:
    desk = desk_of(request)
    user = require(request, desk.users, "edit")
    form = _form(await request.form())
    check_csrf(request, form.get("csrf"))
    start, end = parse_period(request.path_params["period"])
    try:
        desk.service_of(request).undo(start, end, int(form.get("edit", "0") or 0), user.name)
        request.session["flash"] = f"Undone: edit {form.get('edit')}."
    except (ReviewError, ValueError) as exc:
        request.session["flash_error"] = str(exc)
    root = _root(request)
    target = f"{root}/audit" if form.get("back") == "audit" else f"{root}/reports/{start}_{end}#changes"
    return RedirectResponse(target, status_code=303)


async def approve(request: Request) -> Response:
    desk = desk_of(request)
    user = require(request, desk.users, "edit")
    form = _form(await request.form())
    check_csrf(request, form.get("csrf"))
    start, end = parse_period(request.path_params["period"])
    here = f"{_root(request)}/reports/{start}_{end}"
    try:
        _view, paths, sent = desk.service_of(request).approve(start, end, user.name)
    except OsintError as exc:
        request.session["flash_error"] = f"Not approved: {exc}"
        return RedirectResponse(here, status_code=303)
    message = f"Approved by {user.name}; {len(paths)} files written."
    if sent is not None:
        message += f" Emailed to {', '.join(sent.sent) or 'nobody new'}."
        if sent.error:
            message += f" Email failed: {sent.error}"
    request.session["flash"] = message
    return RedirectResponse(here, status_code=303)


async def sources(request: Request) -> Response:
    desk = desk_of(request)
    require(request, desk.users, "read")
    return desk.page(request, "sources", sources=desk.service_of(request).sources())


async def audit(request: Request) -> Response:
    desk = desk_of(request)
    require(request, desk.users, "read")
    error = request.session.pop("flash_error", None)
    notice = request.session.pop("flash", None)
    trail = desk.service_of(request).log.trail()
    return desk.page(request, "audit", trail=trail, error=error, notice=notice)


PER_DESK: list[tuple[str, Any, str]] = [
    ("/sources", sources, "GET"),
    ("/audit", audit, "GET"),
    ("/reports/{period}", draft, "GET"),
    ("/reports/{period}/items/{item_id:int}", item_page, "GET"),
    ("/reports/{period}/edit", edit, "POST"),
    ("/reports/{period}/undo", undo, "POST"),
    ("/reports/{period}/approve", approve, "POST"),
]
"""A desk's pages: at the root without a desks file, under ``/desks/NAME`` with one."""


def routes() -> list[Route]:
    return [
        Route("/", periods, methods=["GET"]),
        Route("/desks/{desk}", periods, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *(Route(path, endpoint, methods=[method]) for path, endpoint, method in PER_DESK),
        *(Route("/desks/{desk}" + path, endpoint, methods=[method]) for path, endpoint, method in PER_DESK),
    ]
