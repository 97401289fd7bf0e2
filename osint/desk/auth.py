"""Who is asking, and may they: sessions, API tokens, CSRF, the login throttle, permissions.

One place decides (as datasette's ``permission_allowed`` does): :func:`require` takes a
request and an action (``read`` or ``edit``) and returns the user or raises
:class:`Denied` — 401 without credentials, 403 when the role does not allow it.

- A browser holds a signed session cookie (Starlette's ``SessionMiddleware``, HttpOnly,
  SameSite=Lax, Secure behind TLS) carrying the user name and a CSRF token; every
  state-changing form sends the token back and :func:`check_csrf` compares it.
- A script sends ``Authorization: Bearer <token>``; a bearer request carries no cookie,
  so it needs no CSRF token.
- Failed logins are counted per user name and per client address; past the limit the
  login answers 429 until the window has passed.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from starlette.requests import Request

from ..jobs.users import User, Users

Action = Literal["read", "edit"]
SESSION_USER = "user"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class Denied(Exception):
    """The request may not do this: ``status`` is 401 (who are you?) or 403 (not you)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user(request: Request, users: Users) -> User | None:
    """The user of a bearer token, else of the session (a removed user is nobody)."""
    token = bearer_token(request)
    if token is not None:
        return users.by_token(token)
    name = request.session.get(SESSION_USER)
    return users.get(name) if isinstance(name, str) else None


def require(request: Request, users: Users, action: Action) -> User:
    user = current_user(request, users)
    if user is None:
        raise Denied(401, "sign in first" if bearer_token(request) is None else "unknown or revoked token")
    if action == "edit" and not user.can_edit:
        raise Denied(403, f"{user.name} is a viewer; only an editor may change or approve a report")
    return user


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the login form has one too)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    """A cookie-authenticated change must carry the session's token (bearer requests need none)."""
    if bearer_token(request) is not None:
        return
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise Denied(403, "the form has expired or did not come from this desk (CSRF token); reload it")


def safe_next(value: str | None, default: str = "/") -> str:
    """Where to go after login: a path on this site only, never another host."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\r\n\t\\"):
        return default
    return value


@dataclass
class Throttle:
    """At most ``limit`` failed logins per key within ``window`` seconds."""

    limit: int = 5
    window: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until a blocked key may try again; None when none is blocked."""
        waits = []
        for key in keys:
            q = self._recent(key)
            if len(q) >= self.limit:
                waits.append(int(self.window - (self.clock() - q[0])) + 1)
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
