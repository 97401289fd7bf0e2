"""An asyncio HTTP/1.1 server for the synthetic corpus, with a per-request latency.

Why by hand: the server must not be what a benchmark measures. One event loop answers
every host of the corpus on one port (virtual hosts by ``Host``), keeps connections
alive, sends bodies prepared in memory (gzip when asked), answers conditional GETs
(ETag, Last-Modified) with 304, and waits ``latency`` seconds before each answer without
holding a thread, so the latency overlaps freely however many clients connect. It
counts what it served, so a run can be checked to have really fetched the pages.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from .corpus import Corpus, CorpusSpec, Resource, build_corpus

_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
MAX_HEADER_LINES = 100


class CorpusServer:
    """Serves ``resources`` (``(host, path) -> Resource``) on 127.0.0.1."""

    def __init__(self, latency: float = 0.02, *, conditional: bool = True) -> None:
        self.latency = latency
        self.conditional = conditional
        """When False, ETag/Last-Modified are neither sent nor honoured (a server without them)."""
        self.resources: dict[tuple[str, str], Resource] = {}
        self.stats: Counter[str] = Counter()
        self.port = 0
        self._server: asyncio.Server | None = None

    def reset_stats(self) -> Counter[str]:
        """The counts since the last reset (read between runs, when no client is connected)."""
        old, self.stats = self.stats, Counter()
        return old

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port, backlog=512)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                parts = line.decode("latin-1").split()
                headers: dict[str, str] = {}
                for _ in range(MAX_HEADER_LINES):
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = raw.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = headers.get("content-length", "0")
                if length.isdigit() and int(length):
                    await reader.readexactly(int(length))
                if len(parts) != 3:
                    writer.write(self._head(400, {"Content-Length": "0", "Connection": "close"}))
                    break
                method, target, version = parts
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                writer.write(self._respond(method, target, headers))
                await writer.drain()
                if version != "HTTP/1.1" or headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _head(status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _respond(self, method: str, target: str, headers: dict[str, str]) -> bytes:
        base = {"Date": formatdate(usegmt=True), "Server": "bench-corpus"}
        if method not in ("GET", "HEAD"):
            self.stats["405"] += 1
            return self._head(405, {**base, "Content-Length": "0", "Allow": "GET, HEAD"})
        host = headers.get("host", "").rsplit(":", 1)[0].lower()
        path = urlsplit(target).path or "/"
        res = self.resources.get((host, path))
        if res is None:
            self.stats["404"] += 1
            return (
                self._head(404, {**base, "Content-Type": "text/plain", "Content-Length": "9"}) + b"not found"
            )
        if self.conditional:
            base["ETag"] = res.etag
            base["Last-Modified"] = res.last_modified
            if headers.get("if-none-match") == res.etag or (
                "if-none-match" not in headers and headers.get("if-modified-since") == res.last_modified
            ):
                self.stats[f"{res.kind}:304"] += 1
                return self._head(304, base)
        body = res.body
        base["Content-Type"] = res.content_type
        base["Vary"] = "Accept-Encoding"
        if res.gzipped is not None and "gzip" in headers.get("accept-encoding", ""):
            body = res.gzipped
            base["Content-Encoding"] = "gzip"
        base["Content-Length"] = str(len(body))
        self.stats[f"{res.kind}:200"] += 1
        self.stats["bytes"] += len(body)
        return self._head(200, base) + (body if method == "GET" else b"")


@contextmanager
def serving(
    spec: CorpusSpec, latency: float = 0.02, *, compress: bool = True
) -> Iterator[tuple[Corpus, CorpusServer]]:
    """Serve a freshly built corpus from a background thread until the block ends."""
    server = CorpusServer(latency)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bench-corpus-server", daemon=True)
    thread.start()

    def call(coro: Coroutine[Any, Any, object]) -> None:
        asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    try:
        call(server.start())
        corpus = build_corpus(spec, server.port, compress=compress)
        server.resources = corpus.resources
        yield corpus, server
    finally:
        call(server.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
