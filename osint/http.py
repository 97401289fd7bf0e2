"""The one place an HTTP client is built, and every guard a fetch of untrusted web goes through.

Why by hand around httpx: httpx has no overall deadline (a server trickling a byte a
second keeps a request alive forever), would inflate brotli or stacked encodings
without bound, and follows redirects to any address. So this module

* checks every connection's address *after* DNS, at connect time (so every redirect hop
  and every re-resolution is checked) against :class:`~osint.settings.NetworkPolicy`;
* follows at most ``max_redirects`` redirects itself, http/https only;
* asks for identity/gzip/deflate only and inflates one layer with a bounded
  decompressor, counting the size cap after decoding;
* wraps each request in an overall deadline;
* retries connection errors and 5xx with backoff and jitter, honouring a capped
  ``Retry-After`` on 429/503 (the one policy of :mod:`osint.retry`);
* maps httpcore's exceptions through one table (:data:`_HTTPCORE_ERRORS`) in its own
  public transport, :class:`GuardedTransport`;
* limits concurrency and spaces requests per host (politeness).
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import ssl
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .errors import BlockedAddressError, FetchError, TransientError
from .retry import RetryPolicy, retry_after_seconds
from .settings import NetworkPolicy

log = logging.getLogger(__name__)

_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 1.0
"""How much of a body nobody reads (a 304's, a redirect's, an error page's) is read off the
wire so that its connection goes back to the pool; a larger or slower one closes it."""


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch; defaults suit a weekly crawl of news sites."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 45.0
    max_bytes: int = 8 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 30.0
    per_host_concurrency: int = 2
    politeness_delay: float = 0.5

    def retry_policy(self) -> RetryPolicy:
        """Retries with jittered backoff (many hosts must not retry in step); quiet, at INFO."""
        return RetryPolicy(
            attempts=self.retries + 1,
            backoff=self.backoff,
            jitter=True,
            max_wait=self.max_retry_after,
            log_level=logging.INFO,
        )


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    not_modified: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
        return None


class _GuardedBackend(httpcore.AnyIOBackend):
    """Resolves the host itself and connects only to addresses the policy allows."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self._policy.allows(host, a)]
        if not allowed:
            raise BlockedAddressError(
                f"{host}:{port}",
                f"refused: {host} resolves to a private or internal address "
                f"({', '.join(addresses)}); set OSINT_ALLOW_PRIVATE_NETWORKS to allow it",
            )
        stream = await super().connect_tcp(
            allowed[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )
        return _CheapIdleCheck(stream)


class _CheapIdleCheck(httpcore.AsyncNetworkStream):
    """A connection whose "has the server hung up?" check costs one ``poll``.

    httpcore asks every idle connection of the pool that question whenever it places a
    request; the anyio stream answers by building a dictionary of all its attributes
    (a ``getpeername`` call included) each time, which was a tenth of a collect's CPU in
    the main process. The raw socket is looked up once here instead.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _CheapIdleCheck(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            sock = self._socket
            if sock is None or sock.fileno() < 0:
                return True  # nothing to read from: treat as gone
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return self._stream.get_extra_info(info)


# httpcore's exceptions -> what a fetch reports, in the spirit of httpx's HTTPCORE_EXC_MAP:
# (exception, message while sending the request, message while reading the body). The
# first match wins; each is transient (worth another try). BlockedAddressError, raised
# by the guarded backend, is no httpcore exception and passes through untouched.
_HTTPCORE_ERRORS: tuple[tuple[type[Exception], str, str], ...] = (
    (httpcore.TimeoutException, "timed out ({name})", "timed out while reading the body ({name})"),
    (httpcore.NetworkError, "connection failed: {detail}", "connection broke while reading: {detail}"),
    (httpcore.ProtocolError, "connection failed: {detail}", "connection broke while reading: {detail}"),
    (
        httpcore.ConnectionNotAvailable,
        "connection failed: {detail}",
        "connection broke while reading: {detail}",
    ),
    (httpcore.UnsupportedProtocol, "connection failed: {detail}", "connection failed: {detail}"),
)
_MAPPED = tuple(kind for kind, _sending, _reading in _HTTPCORE_ERRORS)


@contextmanager
def _map_httpcore_errors(*, reading: bool = False) -> Iterator[None]:
    """Turn httpcore's exceptions into :class:`TransientError` through :data:`_HTTPCORE_ERRORS`."""
    try:
        yield
    except _MAPPED as exc:
        for kind, sending, while_reading in _HTTPCORE_ERRORS:
            if isinstance(exc, kind):
                message = (while_reading if reading else sending).format(
                    name=type(exc).__name__, detail=str(exc) or type(exc).__name__
                )
                raise TransientError(message) from exc
        raise  # pragma: no cover - every _MAPPED type is in the table


class _GuardedBody(httpx.AsyncByteStream):
    """A response body read from httpcore, its errors mapped like the request's."""

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _map_httpcore_errors(reading=True):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections go through :class:`_GuardedBackend`.

    httpx's own transport offers no way to choose httpcore's network backend, so this one
    holds its own httpcore connection pool (built on the guarded backend) behind httpx's
    public transport interface, and maps httpcore's errors through one table.
    """

    def __init__(self, policy: NetworkPolicy, limits: httpx.Limits) -> None:
        self._connections = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _map_httpcore_errors():
            response = await self._connections.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_GuardedBody(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._connections.aclose()


class _BoundedDecoder:
    """Inflate at most one gzip/deflate layer without ever holding more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        enc = encoding.strip().lower()
        if "," in enc:
            raise FetchError(url, f"unsupported stacked content encoding {encoding!r}")
        self._url = url
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []
        self._z: zlib._Decompress | None
        if enc in ("", "identity"):
            self._z = None
        elif enc in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
            self._deflate_probe = True
        else:
            raise FetchError(url, f"unsupported content encoding {encoding!r}")

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise FetchError(self._url, f"response larger than {self._limit} bytes after decoding")
        self._chunks.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._add(chunk)
            return
        try:
            data = self._z.decompress(chunk, self._limit - self._size + 1)
            self._add(data)
            while self._z.unconsumed_tail:
                data = self._z.decompress(self._z.unconsumed_tail, self._limit - self._size + 1)
                self._add(data)
        except zlib.error as exc:
            if getattr(self, "_deflate_probe", False) and self._size == 0:
                # Some servers send raw deflate without the zlib header.
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                self._deflate_probe = False
                self.feed(chunk)
                return
            raise FetchError(self._url, f"corrupt compressed body: {exc}") from exc

    def body(self) -> bytes:
        return b"".join(self._chunks)


class Fetcher:
    """An async HTTP client for untrusted sites; use as ``async with Fetcher(...) as f``."""

    def __init__(
        self,
        policy: NetworkPolicy,
        limits: FetchLimits | None = None,
        user_agent: str = "osint-report/0.1",
    ) -> None:
        self.limits = limits or FetchLimits()
        self._policy = policy
        self._user_agent = user_agent
        self._host_locks: dict[str, asyncio.Semaphore] = {}
        self._host_next: dict[str, float] = {}
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        lim = self.limits
        pool = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(self._policy, pool),
            timeout=httpx.Timeout(lim.read_timeout, connect=lim.connect_timeout),
            follow_redirects=False,
            headers={
                "User-Agent": self._user_agent,
                "Accept-Encoding": "gzip, deflate",
            },
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _polite(self, host: str) -> None:
        delay = self.limits.politeness_delay
        if delay <= 0:
            return
        now = time.monotonic()
        start = max(now, self._host_next.get(host, now))
        self._host_next[host] = start + delay
        if start > now:
            await asyncio.sleep(start - now)

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> FetchResult:
        """GET ``url`` with every guard; raise :class:`FetchError` with a readable cause.

        Each attempt has the overall deadline; timeouts, broken connections, 429 and 5xx
        are tried again under the limits' retry policy.
        """

        async def attempt() -> FetchResult:
            try:
                async with asyncio.timeout(self.limits.deadline):
                    return await self._fetch_once(url, etag, last_modified, accept)
            except TimeoutError:
                raise FetchError(url, f"no complete response within {self.limits.deadline:g} s") from None

        try:
            return await self.limits.retry_policy().acall(attempt, what=url)
        except TransientError as exc:
            raise FetchError(url, exc.reason) from None

    async def _fetch_once(
        self, url: str, etag: str | None, last_modified: str | None, accept: str
    ) -> FetchResult:
        """One attempt: check each URL, send, follow a redirect or read the answer."""
        current, hops = url, 0
        while True:
            host = self._check(url, current)
            headers = {"Accept": accept}
            if etag and not hops:
                headers["If-None-Match"] = etag
            if last_modified and not hops:
                headers["If-Modified-Since"] = last_modified
            sem = self._host_locks.setdefault(host, asyncio.Semaphore(self.limits.per_host_concurrency))
            async with sem:
                await self._polite(host)
                resp = await self._send(url, current, headers)
                try:
                    target = self._redirect(url, current, resp, hops)
                    if target is None:
                        return await self._read(url, current, resp)
                    await self._drain(resp)
                finally:
                    await resp.aclose()
            current, hops = target, hops + 1

    @staticmethod
    def _check(url: str, current: str) -> str:
        """The host (``netloc``) of ``current``, refused unless it is an http(s) URL."""
        try:
            parts = urlsplit(current)
            hostname = parts.hostname
        except ValueError:
            raise FetchError(url, f"refused: malformed URL {current[:200]!r}") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise FetchError(url, f"refused: not an http(s) URL: {current[:200]}")
        return parts.netloc.lower()

    async def _send(self, url: str, current: str, headers: dict[str, str]) -> httpx.Response:
        """The response to a GET of ``current``, its body not read yet."""
        assert self._client is not None, "use Fetcher as an async context manager"
        try:
            req = self._client.build_request("GET", current, headers=headers)
            return await self._client.send(req, stream=True)
        except BlockedAddressError as exc:
            raise FetchError(url, exc.reason) from None

    def _redirect(self, url: str, current: str, resp: httpx.Response, hops: int) -> str | None:
        """Where a redirect points (absolute), or None when ``resp`` is no redirect."""
        status = resp.status_code
        if status not in (301, 302, 303, 307, 308):
            return None
        location = str(resp.headers.get("location", ""))
        if not location:
            raise FetchError(url, f"HTTP {status} without a Location header")
        if hops >= self.limits.max_redirects:
            raise FetchError(url, f"more than {self.limits.max_redirects} redirects")
        try:
            return urljoin(current, location.strip())
        except ValueError:
            raise FetchError(url, f"malformed redirect to {location[:200]!r}") from None

    @staticmethod
    async def _drain(resp: httpx.Response) -> None:
        """Read off a small unwanted body, so closing the response keeps its connection.

        httpcore returns a connection to the pool only when the response was read to its
        end; closed earlier, the connection is dropped, and the next request to the host
        opens a new one (a TLS handshake on https). A re-run of 304s did that for every
        feed. What does not end within :data:`_DRAIN_BYTES` and :data:`_DRAIN_SECONDS`, or
        breaks, is left: the connection is closed as before, and the answer stands.
        """
        left = _DRAIN_BYTES
        try:
            # aiter_raw is an async generator; closed here, not whenever it is collected
            body = cast(AsyncGenerator[bytes, None], resp.aiter_raw())
            async with asyncio.timeout(_DRAIN_SECONDS), aclosing(body) as chunks:
                async for chunk in chunks:
                    left -= len(chunk)
                    if left < 0:
                        return
        except (TransientError, TimeoutError):
            return

    async def _read(self, url: str, current: str, resp: httpx.Response) -> FetchResult:
        """The answer: not modified, an error by its status, or a body within the size cap."""
        status = resp.status_code
        if status == 304 or status >= 400:
            await self._drain(resp)
        if status == 304:
            return FetchResult(url, current, status, dict(resp.headers), b"", not_modified=True)
        if status in (429, 503):
            wait = retry_after_seconds(resp.headers.get("retry-after"), self.limits.max_retry_after)
            raise TransientError(f"HTTP {status}", wait)
        if status >= 500:
            raise TransientError(f"HTTP {status}")
        if status >= 400:
            raise FetchError(url, f"HTTP {status}")
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes * 4:
            raise FetchError(url, f"declared size {declared} bytes is too large")
        decoder = _BoundedDecoder(resp.headers.get("content-encoding", ""), self.limits.max_bytes, url)
        async for chunk in resp.aiter_raw():
            decoder.feed(chunk)
        return FetchResult(url, current, status, dict(resp.headers), decoder.body())
