"""Desk users: a name, a role, an argon2 password hash and the hash of an API token.

Kept in the store, as the desk's session key is; the desk's front reaches them here.

Passwords are hashed with argon2id (argon2-cffi's defaults); an API token is 32 random
bytes shown once, and only its SHA-256 is kept (a token is random, so a slow hash adds
nothing). Roles: a *viewer* reads; an *editor* may also edit and approve.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import ReviewError
from ..store import Store

Role = Literal["editor", "viewer"]
ROLES: tuple[Role, ...] = ("editor", "viewer")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HASHER = PasswordHasher()
MIN_PASSWORD = 8
TOKEN_PREFIX = "osint_"


class UserError(ReviewError):
    """A user that cannot be added, found or changed."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    has_password: bool
    has_token: bool
    created_at: datetime

    @property
    def can_edit(self) -> bool:
        return self.role == "editor"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    """The ``users`` table of one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, name: str, role: str, password: str | None) -> User:
        if not _NAME.fullmatch(name):
            raise UserError(f"user name {name!r}: letters, digits, '.', '_' or '-', up to 64")
        if role not in ROLES:
            raise UserError(f"role {role!r}: choose editor or viewer")
        if password is not None and len(password) < MIN_PASSWORD:
            raise UserError(f"password: at least {MIN_PASSWORD} characters")
        if self.get(name) is not None:
            raise UserError(f"user {name!r} exists already")
        hashed = _HASHER.hash(password) if password is not None else None
        self.store.db.execute(
            "INSERT INTO users(name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, role, hashed, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        user = self.get(name)
        assert user is not None
        return user

    def get(self, name: str) -> User | None:
        row = self.store.db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return User(
            row["name"],
            row["role"],
            row["password_hash"] is not None,
            row["token_hash"] is not None,
            datetime.fromisoformat(row["created_at"]),
        )

    def all(self) -> list[User]:
        names = [r[0] for r in self.store.db.execute("SELECT name FROM users ORDER BY name")]
        return [u for n in names if (u := self.get(n)) is not None]

    def remove(self, name: str) -> None:
        if self.store.db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise UserError(f"no user {name!r}")

    def new_token(self, name: str) -> str:
        """A fresh API token for ``name`` (any earlier one stops working); shown only now."""
        if self.get(name) is None:
            raise UserError(f"no user {name!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.store.db.execute("UPDATE users SET token_hash = ? WHERE name = ?", (_token_hash(token), name))
        return token

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise (same cost either way)."""
        row = self.store.db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        stored = row["password_hash"] if row is not None else None
        try:
            _HASHER.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        return self.get(name) if stored else None

    def by_token(self, token: str) -> User | None:
        digest = _token_hash(token)
        for row in self.store.db.execute("SELECT name, token_hash FROM users WHERE token_hash IS NOT NULL"):
            if hmac.compare_digest(row["token_hash"], digest):
                return self.get(row["name"])
        return None


def session_secret(store: Store) -> str:
    """The key that signs session cookies, made once per store and kept in it."""
    row = store.db.execute("SELECT value FROM desk_secrets WHERE name = 'session'").fetchone()
    if row is not None:
        return str(row[0])
    value = secrets.token_urlsafe(48)
    store.db.execute("INSERT INTO desk_secrets(name, value) VALUES ('session', ?)", (value,))
    return value


@functools.cache
def _dummy_hash() -> str:
    """Verified against when a user does not exist, so timing does not tell who exists.

    Made at the first login, not at import: an argon2 hash costs about 0.1 s of CPU, and
    every command (``osint collect`` too) imports this module through the CLI.
    """
    return _HASHER.hash(secrets.token_hex(16))
