"""A real HTTP server on 127.0.0.1 whose routes misbehave on purpose.

Each route is a function that gets the live request handler and answers however it
likes: slowly, hugely, with a bad encoding, by cutting the connection. Every request
is recorded (path and headers) so a test can check what the client really sent, and
every accepted connection is counted so a test can see whether the client kept one.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


def reply(
    h: BaseHTTPRequestHandler,
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """A complete, well-formed response."""
    h.send_response(status)
    hdrs = {"Content-Length": str(len(body)), **(headers or {})}
    for k, v in hdrs.items():
        h.send_header(k, v)
    h.end_headers()
    if body and h.command != "HEAD":
        h.wfile.write(body)


def reset_connection(h: BaseHTTPRequestHandler) -> None:
    """Close the socket with RST instead of answering."""
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.close_connection = True
    h.connection.close()


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]


@dataclass
class HostileServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    active: int = 0
    max_active: int = 0
    connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, fn: Route) -> None:
        self.routes[path] = fn

    def static(
        self,
        path: str,
        body: bytes,
        ctype: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.routes[path] = lambda h: reply(h, 200, body, {"Content-Type": ctype, **(headers or {})})

    def hits(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    state = HostileServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            with state._lock:
                state.connections += 1
            super().setup()

        def do_GET(self) -> None:
            with state._lock:
                state.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}))
                state.active += 1
                state.max_active = max(state.max_active, state.active)
            try:
                fn = state.routes.get(self.path.split("?")[0])
                if fn is None:
                    reply(self, 404, b"not found", {"Content-Type": "text/plain"})
                else:
                    fn(self)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            finally:
                with state._lock:
                    state.active -= 1

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
