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
  ``Retry-After`` on 429/503;
* limits concurrency and spaces requests per host (politeness).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import socket
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION

from .errors import BlockedAddressError, FetchError
from .settings import NetworkPolicy

log = logging.getLogger(__name__)


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


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

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
        socket_options: Iterable[SOCKET_OPTION] | None = None,
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
        return await super().connect_tcp(
            allowed[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool swapped for one on the guarded backend.

    httpx does not expose ``network_backend``; replacing ``_pool`` right after
    construction is the smallest way to use httpcore's documented seam.
    """

    def __init__(self, policy: NetworkPolicy, limits: httpx.Limits) -> None:
        super().__init__(verify=True, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )


def _retry_after_seconds(value: str | None, cap: float) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date) and cap it; None when absent or silly."""
    if not value:
        return None
    value = value.strip()
    seconds: float | None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, cap))


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
            transport=_GuardedTransport(self._policy, pool),
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
        """GET ``url`` with every guard; raise :class:`FetchError` with a readable cause."""
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(self.limits.deadline):
                    result = await self._fetch_once(url, etag, last_modified, accept)
            except TimeoutError:
                raise FetchError(url, f"no complete response within {self.limits.deadline:g} s") from None
            except _Retryable as exc:
                attempt += 1
                if attempt > self.limits.retries:
                    raise FetchError(url, exc.reason) from None
                wait = exc.wait
                if wait is None:
                    wait = self.limits.backoff * (2 ** (attempt - 1)) * (1 + random.random())
                log.info("retrying %s in %.1fs: %s", url, wait, exc.reason)
                await asyncio.sleep(wait)
                continue
            return result

    async def _fetch_once(
        self, url: str, etag: str | None, last_modified: str | None, accept: str
    ) -> FetchResult:
        assert self._client is not None, "use Fetcher as an async context manager"
        current = url
        hops: list[str] = []
        while True:
            try:
                parts = urlsplit(current)
                hostname = parts.hostname
            except ValueError:
                raise FetchError(url, f"refused: malformed URL {current[:200]!r}") from None
            if parts.scheme not in ("http", "https") or not hostname:
                raise FetchError(url, f"refused: not an http(s) URL: {current[:200]}")
            host = parts.netloc.lower()
            sem = self._host_locks.setdefault(host, asyncio.Semaphore(self.limits.per_host_concurrency))
            headers = {"Accept": accept}
            if etag and not hops:
                headers["If-None-Match"] = etag
            if last_modified and not hops:
                headers["If-Modified-Since"] = last_modified
            async with sem:
                await self._polite(host)
                try:
                    req = self._client.build_request("GET", current, headers=headers)
                    resp = await self._client.send(req, stream=True)
                except BlockedAddressError as exc:
                    raise FetchError(url, exc.reason) from None
                except httpx.TimeoutException as exc:
                    raise _Retryable(f"timed out ({type(exc).__name__})") from None
                except httpx.TransportError as exc:
                    raise _Retryable(f"connection failed: {exc or type(exc).__name__}") from None
                try:
                    status = resp.status_code
                    if status in (301, 302, 303, 307, 308):
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchError(url, f"HTTP {status} without a Location header")
                        if len(hops) >= self.limits.max_redirects:
                            raise FetchError(url, f"more than {self.limits.max_redirects} redirects")
                        hops.append(current)
                        try:
                            current = urljoin(current, location.strip())
                        except ValueError:
                            raise FetchError(url, f"malformed redirect to {location[:200]!r}") from None
                        continue
                    if status == 304:
                        return FetchResult(
                            url, current, status, dict(resp.headers), b"", not_modified=True, redirects=hops
                        )
                    if status in (429, 503):
                        wait = _retry_after_seconds(
                            resp.headers.get("retry-after"), self.limits.max_retry_after
                        )
                        raise _Retryable(f"HTTP {status}", wait)
                    if status >= 500:
                        raise _Retryable(f"HTTP {status}")
                    if status >= 400:
                        raise FetchError(url, f"HTTP {status}")
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.limits.max_bytes * 4:
                        raise FetchError(url, f"declared size {declared} bytes is too large")
                    decoder = _BoundedDecoder(
                        resp.headers.get("content-encoding", ""), self.limits.max_bytes, url
                    )
                    try:
                        async for chunk in resp.aiter_raw():
                            decoder.feed(chunk)
                    except httpx.TimeoutException:
                        raise _Retryable("timed out while reading the body") from None
                    except httpx.TransportError as exc:
                        raise _Retryable(f"connection broke while reading: {exc}") from None
                    return FetchResult(
                        url, current, status, dict(resp.headers), decoder.body(), redirects=hops
                    )
                finally:
                    await resp.aclose()


class _Retryable(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
