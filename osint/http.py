"""The one place an HTTP client is built, and every guard a fetch of untrusted web goes through.

Why by hand, on httpcore's connection pool: a stock client has no overall deadline (a
server trickling a byte a second keeps a request alive forever), would inflate brotli or
stacked encodings without bound, and follows redirects to any address. So this module

* checks every connection's address *after* DNS, at connect time (so every redirect hop
  and every re-resolution is checked) against :class:`~osint.settings.NetworkPolicy`, in
  the network backend it gives httpcore's pool;
* follows at most ``max_redirects`` redirects itself, http/https only;
* asks for identity/gzip/deflate only and inflates one layer with a bounded
  decompressor, counting the size cap after decoding;
* wraps each request in an overall deadline;
* always verifies TLS, against certifi's CAs, in one context built at the Fetcher's first
  https connection (:class:`_TrustStore`);
* retries connection errors and 5xx with backoff and jitter, honouring a capped
  ``Retry-After`` on 429/503 (the one policy of :mod:`osint.retry`);
* maps httpcore's exceptions through one table (:data:`_HTTPCORE_ERRORS`);
* limits concurrency and spaces requests per host (politeness);
* reads off the small body of a 304, a redirect or an error, so its connection goes
  back to the pool (a re-run of 304s then needs one connection per host and slot).

Why not httpx over that pool: all it did here was build requests and wrap responses, and
importing it cost every ``osint collect`` 30-90 ms (its command-line and auth modules
pull in click, pygments, ``urllib.request``, ``http.cookiejar``), a large part of a
re-run that fetches nothing new. So this module spells the request for the wire
itself (:func:`_target`: IDNA host names, percent-encoded targets, the Host header) and
reads httpcore's responses directly. The LLM client, loaded only by the report commands,
keeps httpx.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import select
import socket
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import httpcore

from .errors import BlockedAddressError, FetchError, TransientError
from .retry import RetryPolicy, retry_after_seconds
from .settings import NetworkPolicy

log = logging.getLogger(__name__)

_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 1.0
"""How much of a body nobody reads (a 304's, a redirect's, an error page's) is read off the
wire so that its connection goes back to the pool; a larger or slower one closes it."""

_KEEPALIVE_SECONDS = 5.0
"""How long an idle connection is kept for its host's next request (httpx's default)."""


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
    per_host_concurrency: int = 6
    """At most this many requests to one host at a time, as browsers open (RFC 9112 sets
    no number). What keeps a crawl polite is ``politeness_delay``: starts on one host are
    that far apart, so with the default a host rarely sees more than one at a time."""
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


class _TrustStore:
    """The TLS client context of one Fetcher, built at its first https connection.

    Loading certifi's CA bundle costs 15-20 ms of CPU, every run, and a collect whose
    sources are all plain http (or that fetches nothing new over few connections) should
    not pay it; building it per connection (httpcore's default without a context) would
    pay it on every handshake. Verification stays on: certificate and host name checked.
    """

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            context = ssl.create_default_context(cafile=certifi.where())
            context.set_alpn_protocols(["http/1.1"])
            self._context = context
        return self._context

    @staticmethod
    def placeholder() -> ssl.SSLContext:
        """What httpcore's pool is given instead: it must hold some context, but every
        handshake goes through :meth:`_CheapIdleCheck.start_tls`, which uses
        :meth:`context`. Should one ever be made with this, it trusts no CA and fails
        closed (a bare client context requires a certificate and checks the host name)."""
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _GuardedBackend(httpcore.AnyIOBackend):
    """Resolves the host itself and connects only to addresses the policy allows."""

    def __init__(self, policy: NetworkPolicy, tls: _TrustStore) -> None:
        self._policy = policy
        self._tls = tls

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
        return _CheapIdleCheck(stream, self._tls)


class _CheapIdleCheck(httpcore.AsyncNetworkStream):
    """A connection whose "has the server hung up?" check costs one ``poll``.

    httpcore asks every idle connection of the pool that question whenever it places a
    request; the anyio stream answers by building a dictionary of all its attributes
    (a ``getpeername`` call included) each time, which was a tenth of a collect's CPU in
    the main process. The raw socket is looked up once here instead. Its TLS handshake
    uses the Fetcher's one context (:class:`_TrustStore`).
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream, tls: _TrustStore) -> None:
        self._stream = stream
        self._tls = tls
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
        del ssl_context  # the pool's placeholder; see _TrustStore
        stream = await self._stream.start_tls(self._tls.context(), server_hostname, timeout)
        return _CheapIdleCheck(stream, self._tls)

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
_MAPPED: tuple[type[Exception], ...] = tuple(kind for kind, _sending, _reading in _HTTPCORE_ERRORS)
_DRAIN_STOPS: tuple[type[Exception], ...] = (*_MAPPED, TimeoutError)


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


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")
_NOT_FOR_THE_WIRE = re.compile(r'[^\x21-\x7e]|["<>`{}]|%(?![0-9A-Fa-f]{2})')
"""What a request target may not carry as it is: spaces, controls and non-ASCII (a feed's
links are often written in the site's script), quotes, angle brackets, backticks and
braces, and a ``%`` that starts no escape. Each becomes ``%XX`` of its UTF-8 bytes, as a
browser writes it; an existing escape is kept."""


@dataclass(frozen=True)
class _Target:
    """Where a GET goes, spelled for the wire."""

    url: httpcore.URL
    host: str
    """The Host header: the IDNA host name or ``[IPv6]``, with the port unless it is the
    scheme's default. Also the key of the per-host limits."""
    headers: tuple[tuple[bytes, bytes], ...]
    """Host, and Basic credentials when the URL carries them (``https://user:pw@host/``),
    as httpx sent them: a private feed's address may hold its login."""


def _percent_encoded(text: str) -> str:
    return _NOT_FOR_THE_WIRE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8", "surrogatepass")), text
    )


def _wire_host(host: str) -> str | None:
    """``host`` (lower case, no brackets) as it is looked up and sent; None if it is none."""
    if ":" in host:
        try:
            socket.inet_pton(socket.AF_INET6, host)
        except OSError:
            return None
        return host
    if not host.isascii():
        import idna  # only for a non-ASCII name: the same IDNA 2008 + UTS 46 mapping anyio uses

        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    return host if _HOST_NAME.fullmatch(host) else None


def _target(url: str, current: str) -> _Target:
    """``current`` checked and spelled for the wire; refused unless it is an http(s) URL.

    httpx did this before the fetcher used httpcore alone: host names to IDNA, the path
    and query percent-encoded, the fragment dropped, the Host header with the port when
    it is not the scheme's default, credentials in the URL sent as Basic auth.
    """
    try:
        parts = urlsplit(current)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        raise FetchError(url, f"refused: malformed URL {current[:200]!r}") from None
    if parts.scheme not in _DEFAULT_PORTS or not hostname:
        raise FetchError(url, f"refused: not an http(s) URL: {current[:200]}")
    host = _wire_host(hostname)
    if host is None:
        raise FetchError(url, f"refused: malformed URL {current[:200]!r}")
    target = _percent_encoded(parts.path or "/")
    if parts.query:
        target += "?" + _percent_encoded(parts.query)
    header = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        header += f":{port}"
    headers = [(b"Host", header.encode("ascii"))]
    if parts.username or parts.password:
        login = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
        headers.append((b"Authorization", b"Basic " + base64.b64encode(login)))
    return _Target(
        httpcore.URL(scheme=parts.scheme, host=host, port=port, target=target.encode("ascii")),
        header,
        tuple(headers),
    )


def _header_text(value: bytes) -> str:
    """A header value as text: UTF-8 when it is (ASCII is), else Latin-1, which reads any bytes."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _header_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lower-case name, a repeated header's values joined with ", "."""
    fields: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), _header_text(value)
        fields[key] = f"{fields[key]}, {text}" if key in fields else text
    return fields


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
        self._headers = [
            (b"User-Agent", user_agent.encode("utf-8")),
            (b"Accept-Encoding", b"gzip, deflate"),
        ]
        self._timeouts = {
            "connect": self.limits.connect_timeout,
            "read": self.limits.read_timeout,
            "write": self.limits.read_timeout,
            "pool": self.limits.read_timeout,
        }
        self._host_locks: dict[str, asyncio.Semaphore] = {}
        self._host_next: dict[str, float] = {}
        self._tls = _TrustStore()
        self._backend: _GuardedBackend | None = None
        self._pools: dict[str, httpcore.AsyncConnectionPool] = {}

    async def __aenter__(self) -> Fetcher:
        self._backend = _GuardedBackend(self._policy, self._tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            await pool.aclose()

    def _pool(self, host: str) -> httpcore.AsyncConnectionPool:
        """The host's own connection pool, made at its first request.

        One pool per host, not one for all: httpcore's pool looks at every connection it
        holds each time it places a request, so a shared pool of 50 hosts' connections
        cost a collect of 50 feeds some 70,000 such looks; a host's pool holds at most
        its ``per_host_concurrency`` connections.
        """
        assert self._backend is not None, "use Fetcher as an async context manager"
        pool = self._pools.get(host)
        if pool is None:
            size = self.limits.per_host_concurrency
            pool = self._pools[host] = httpcore.AsyncConnectionPool(
                ssl_context=_TrustStore.placeholder(),
                max_connections=size,
                max_keepalive_connections=size,
                keepalive_expiry=_KEEPALIVE_SECONDS,
                network_backend=self._backend,
            )
        return pool

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
            target = _target(url, current)
            headers = [(b"Accept", accept.encode("utf-8"))]
            if etag and not hops:
                headers.append((b"If-None-Match", etag.encode("utf-8")))
            if last_modified and not hops:
                headers.append((b"If-Modified-Since", last_modified.encode("utf-8")))
            sem = self._host_locks.setdefault(
                target.host, asyncio.Semaphore(self.limits.per_host_concurrency)
            )
            async with sem:
                await self._polite(target.host)
                resp = await self._send(url, target, headers)
                try:
                    fields = _header_dict(resp.headers)
                    location = self._redirect(url, current, resp.status, fields, hops)
                    if location is None:
                        return await self._read(url, current, resp, fields)
                    await self._drain(resp)
                finally:
                    await resp.aclose()
            current, hops = location, hops + 1

    async def _send(self, url: str, target: _Target, headers: list[tuple[bytes, bytes]]) -> httpcore.Response:
        """The response to a GET of ``target``, its body not read yet."""
        pool = self._pool(target.host)
        request = httpcore.Request(
            b"GET",
            target.url,
            headers=[*target.headers, *self._headers, *headers],
            extensions={"timeout": self._timeouts},
        )
        try:
            with _map_httpcore_errors():
                return await pool.handle_async_request(request)
        except BlockedAddressError as exc:
            raise FetchError(url, exc.reason) from None

    def _redirect(self, url: str, current: str, status: int, fields: dict[str, str], hops: int) -> str | None:
        """Where a redirect points (absolute), or None when the response is no redirect."""
        if status not in (301, 302, 303, 307, 308):
            return None
        location = fields.get("location", "")
        if not location:
            raise FetchError(url, f"HTTP {status} without a Location header")
        if hops >= self.limits.max_redirects:
            raise FetchError(url, f"more than {self.limits.max_redirects} redirects")
        try:
            return urljoin(current, location.strip())
        except ValueError:
            raise FetchError(url, f"malformed redirect to {location[:200]!r}") from None

    @staticmethod
    async def _drain(resp: httpcore.Response) -> None:
        """Read off a small unwanted body, so closing the response keeps its connection.

        httpcore returns a connection to the pool only when the response was read to its
        end; closed earlier, the connection is dropped, and the next request to the host
        opens a new one (a TLS handshake on https). A re-run of 304s did that for every
        feed. What does not end within :data:`_DRAIN_BYTES` and :data:`_DRAIN_SECONDS`, or
        breaks, is left: the connection is closed as before, and the answer stands.
        """
        left = _DRAIN_BYTES
        try:
            async with asyncio.timeout(_DRAIN_SECONDS):
                async for chunk in resp.aiter_stream():
                    left -= len(chunk)
                    if left < 0:
                        return
        except _DRAIN_STOPS:
            return

    async def _read(
        self, url: str, current: str, resp: httpcore.Response, fields: dict[str, str]
    ) -> FetchResult:
        """The answer: not modified, an error by its status, or a body within the size cap."""
        status = resp.status
        if status == 304 or status >= 400:
            await self._drain(resp)
        if status == 304:
            return FetchResult(url, current, status, fields, b"", not_modified=True)
        if status in (429, 503):
            wait = retry_after_seconds(fields.get("retry-after"), self.limits.max_retry_after)
            raise TransientError(f"HTTP {status}", wait)
        if status >= 500:
            raise TransientError(f"HTTP {status}")
        if status >= 400:
            raise FetchError(url, f"HTTP {status}")
        declared = fields.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes * 4:
            raise FetchError(url, f"declared size {declared} bytes is too large")
        decoder = _BoundedDecoder(fields.get("content-encoding", ""), self.limits.max_bytes, url)
        with _map_httpcore_errors(reading=True):
            async for chunk in resp.aiter_stream():
                decoder.feed(chunk)
        return FetchResult(url, current, status, fields, decoder.body())
