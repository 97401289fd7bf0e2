"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the delivery tests.

It runs in its own thread and event loop on a socket bound before it starts (port 0,
so tests never collide), records every message it accepts, and can be told to answer
DATA with errors first (421, 451, ...) or to refuse some recipients.
"""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "reports", "s3cret pass"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Handler:
    """Records accepted messages; ``data_answers`` are given to DATA before accepting."""

    data_answers: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    data_attempts: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_attempts += 1
        if self.data_answers:
            return self.data_answers.pop(0)
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


def mail_env(monkeypatch: pytest.MonkeyPatch, port: int, to: str) -> None:
    """OSINT_* settings that send to this server at once (no waiting between retries)."""
    monkeypatch.setenv("OSINT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OSINT_SMTP_PORT", str(port))
    monkeypatch.setenv("OSINT_MAIL_FROM", "OSINT <osint@example.org>")
    monkeypatch.setenv("OSINT_MAIL_TO", to)
    monkeypatch.setenv("OSINT_MAIL_RETRY_DELAY", "0")


def reserve_port() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1 but not listening: connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def smtp_server(
    handler: Handler,
    *,
    sock: socket.socket | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    **smtp_kwargs: Any,
) -> Iterator[int]:
    """Serve SMTP on 127.0.0.1 until the block ends; yields the port.

    ``smtp_kwargs`` go to aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``,
    ``authenticator``, ``auth_required``, ``data_size_limit`` ...); ``implicit_tls``
    wraps the whole connection (SMTPS, port-465 style).
    """
    sock = sock or reserve_port()
    port = int(sock.getsockname()[1])
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def factory() -> SMTP:
        return SMTP(handler, hostname="mail.test", loop=loop, **smtp_kwargs)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(loop.create_server(factory, sock=sock, ssl=implicit_tls))
        except OSError as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(30)
    if failure:
        raise failure[0]
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
