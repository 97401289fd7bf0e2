"""Every guard of the fetcher, each against a real server on 127.0.0.1 that misbehaves."""

from __future__ import annotations

import asyncio
import base64
import gzip
import http.server
import ssl
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import pytest
import trustme

from osint.errors import FetchError
from osint.http import Fetcher, FetchLimits, FetchResult, _target
from osint.retry import retry_after_seconds
from osint.settings import NetworkPolicy

from .hostile_server import HostileServer, hostile_server, reply, reset_connection

LOOPBACK = NetworkPolicy.parse("127.0.0.1/32")
FAST = FetchLimits(
    politeness_delay=0,
    backoff=0.01,
    retries=2,
    max_retry_after=0.2,
    deadline=5,
    read_timeout=2,
    connect_timeout=2,
)


def fetch(
    url: str, policy: NetworkPolicy = LOOPBACK, limits: FetchLimits = FAST, **kw: str | None
) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(policy, limits, user_agent="osint-test/1") as f:
            return await f.fetch(url, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


@pytest.fixture
def srv() -> HostileServer:
    with hostile_server() as s:
        yield s  # type: ignore[misc]


# ------------------------------------------------------------------ addresses


def test_loopback_is_refused_by_default(srv: HostileServer) -> None:
    srv.static("/x", b"hello")
    with pytest.raises(FetchError, match="private or internal address"):
        fetch(srv.url("/x"), policy=NetworkPolicy.parse(""))
    assert srv.requests == []


def test_localhost_name_is_checked_after_dns(srv: HostileServer) -> None:
    srv.static("/x", b"hello")
    with pytest.raises(FetchError, match="resolves to a private"):
        fetch(f"http://localhost:{srv.port}/x", policy=NetworkPolicy.parse("10.0.0.0/8"))


def test_allow_list_opens_exactly_what_it_names(srv: HostileServer) -> None:
    srv.static("/x", b"hello")
    assert fetch(srv.url("/x")).body == b"hello"
    assert fetch(srv.url("/x"), policy=NetworkPolicy.parse("true")).body == b"hello"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("224.0.0.1", False),
    ],
)
def test_policy_refuses_internal_addresses(address: str, allowed: bool) -> None:
    assert NetworkPolicy.parse("").allows("example.org", address) is allowed


def test_policy_cidr_and_host_lists() -> None:
    policy = NetworkPolicy.parse("127.0.0.1/32, intranet.local")
    assert policy.allows("x", "127.0.0.1")
    assert not policy.allows("x", "127.0.0.2")
    assert policy.allows("intranet.local", "10.0.0.5")
    assert not policy.allows("other.local", "10.0.0.5")


def test_redirect_to_a_refused_address_is_checked_on_every_hop(srv: HostileServer) -> None:
    srv.route("/hop", lambda h: reply(h, 302, headers={"Location": "http://127.0.0.2:9/secret"}))
    with pytest.raises(FetchError, match="private or internal"):
        fetch(srv.url("/hop"))


def test_redirect_limit_and_scheme(srv: HostileServer) -> None:
    for i in range(7):
        srv.route(f"/r{i}", lambda h, i=i: reply(h, 301, headers={"Location": f"/r{i + 1}"}))
    srv.static("/r7", b"end")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(srv.url("/r0"))
    assert fetch(srv.url("/r3")).final_url == srv.url("/r7")
    srv.route("/file", lambda h: reply(h, 302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match="not an http"):
        fetch(srv.url("/file"))


# ------------------------------------------------------------------ size and encodings


def test_body_cap_counts_decoded_bytes(srv: HostileServer) -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))  # 20 KiB on the wire, 20 MiB inflated
    srv.route("/bomb", lambda h: reply(h, 200, bomb, {"Content-Encoding": "gzip"}))
    limits = FetchLimits(politeness_delay=0, max_bytes=1024 * 1024, retries=0)
    with pytest.raises(FetchError, match="larger than 1048576 bytes after decoding"):
        fetch(srv.url("/bomb"), limits=limits)


def test_gzip_and_deflate_are_decoded(srv: HostileServer) -> None:
    srv.route("/gz", lambda h: reply(h, 200, gzip.compress(b"gzipped"), {"Content-Encoding": "gzip"}))
    srv.route("/df", lambda h: reply(h, 200, zlib.compress(b"deflated"), {"Content-Encoding": "deflate"}))
    raw = zlib.compressobj(wbits=-15)
    body = raw.compress(b"raw deflate") + raw.flush()
    srv.route("/raw", lambda h: reply(h, 200, body, {"Content-Encoding": "deflate"}))
    assert fetch(srv.url("/gz")).body == b"gzipped"
    assert fetch(srv.url("/df")).body == b"deflated"
    assert fetch(srv.url("/raw")).body == b"raw deflate"
    assert "br" not in srv.requests[0].headers["accept-encoding"]


def test_brotli_and_stacked_encodings_are_refused(srv: HostileServer) -> None:
    srv.route("/br", lambda h: reply(h, 200, b"\x0b\x02\x80hello\x03", {"Content-Encoding": "br"}))
    srv.route("/two", lambda h: reply(h, 200, b"x", {"Content-Encoding": "gzip, gzip"}))
    with pytest.raises(FetchError, match="unsupported content encoding 'br'"):
        fetch(srv.url("/br"))
    with pytest.raises(FetchError, match="stacked"):
        fetch(srv.url("/two"))


def test_corrupt_gzip_is_an_error(srv: HostileServer) -> None:
    srv.route("/bad", lambda h: reply(h, 200, b"\x1f\x8bnot really", {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match="corrupt compressed body"):
        fetch(srv.url("/bad"))


# ------------------------------------------------------------------ time


def test_a_trickling_server_is_cut_at_the_deadline(srv: HostileServer) -> None:
    release = threading.Event()

    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not release.is_set():
            h.wfile.write(b"x")
            h.wfile.flush()
            release.wait(0.05)

    srv.route("/slow", trickle)
    limits = FetchLimits(politeness_delay=0, deadline=1.0, read_timeout=30, retries=0)
    try:
        with pytest.raises(FetchError, match="no complete response within 1 s"):
            fetch(srv.url("/slow"), limits=limits)
    finally:
        release.set()


# ------------------------------------------------------------------ retries


def test_5xx_and_resets_are_retried_then_succeed(srv: HostileServer) -> None:
    calls = {"n": 0}

    def flaky(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            reply(h, 500, b"oops")
        elif calls["n"] == 2:
            reset_connection(h)
        else:
            reply(h, 200, b"finally")

    srv.route("/flaky", flaky)
    assert fetch(srv.url("/flaky")).body == b"finally"
    assert calls["n"] == 3


def test_retries_are_bounded(srv: HostileServer) -> None:
    srv.route("/down", lambda h: reply(h, 502, b"bad gateway"))
    with pytest.raises(FetchError, match="HTTP 502"):
        fetch(srv.url("/down"))
    assert len(srv.hits("/down")) == 3  # first try + 2 retries


def test_429_honours_a_capped_retry_after(srv: HostileServer) -> None:
    calls = {"n": 0}

    def limited(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            reply(h, 429, b"slow down", {"Retry-After": "86400"})  # silly: capped to 0.2 s
        else:
            reply(h, 200, b"ok")

    srv.route("/limited", limited)
    assert fetch(srv.url("/limited")).body == b"ok"


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("5", 30) == 5
    assert retry_after_seconds("100000", 30) == 30
    assert retry_after_seconds(None, 30) is None
    assert retry_after_seconds("soon", 30) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    value = retry_after_seconds(later, 30)
    assert value is not None and 5 <= value <= 10
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 30) == 0.0


def test_4xx_is_not_retried(srv: HostileServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(srv.url("/missing"))
    assert len(srv.hits("/missing")) == 1


# ------------------------------------------------------------------ politeness and headers


def test_per_host_concurrency_is_limited(srv: HostileServer) -> None:
    gate = threading.Event()
    arrived = threading.Semaphore(0)

    def held(h: BaseHTTPRequestHandler) -> None:
        arrived.release()
        gate.wait(5)
        reply(h, 200, b"ok")

    for i in range(6):
        srv.route(f"/p{i}", held)
    limits = FetchLimits(politeness_delay=0, per_host_concurrency=2, retries=0)

    async def go() -> list[FetchResult]:
        async with Fetcher(LOOPBACK, limits) as f:
            tasks = [asyncio.create_task(f.fetch(srv.url(f"/p{i}"))) for i in range(6)]
            await asyncio.to_thread(arrived.acquire)
            await asyncio.to_thread(arrived.acquire)
            await asyncio.sleep(0)  # let any third request (if the limit were broken) start
            gate.set()
            return await asyncio.gather(*tasks)

    assert len(asyncio.run(go())) == 6
    assert srv.max_active <= 2


def test_user_agent_and_conditional_headers(srv: HostileServer) -> None:
    def conditional(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            reply(h, 304, headers={"ETag": '"v1"'})
        else:
            reply(h, 200, b"<rss/>", {"ETag": '"v1"'})

    srv.route("/feed", conditional)
    first = fetch(srv.url("/feed"))
    assert first.headers["etag"] == '"v1"' and not first.not_modified
    second = fetch(srv.url("/feed"), etag='"v1"', last_modified="Mon, 02 Mar 2026 00:00:00 GMT")
    assert second.not_modified and second.body == b""
    sent = srv.hits("/feed")[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 02 Mar 2026 00:00:00 GMT"
    assert sent["user-agent"] == "osint-test/1"


def test_the_request_is_spelled_for_the_wire(srv: HostileServer) -> None:
    """Host with its port, a path in the site's script and a space percent-encoded as UTF-8,
    a stray ``%`` escaped, an existing escape kept, the fragment not sent."""
    wire = "/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/a%20b"
    srv.static(wire, b"ok")
    assert fetch(srv.url("/новости/a b?q=é&p=%41%zz#top")).body == b"ok"
    sent = srv.requests[0]
    assert sent.path == wire + "?q=%C3%A9&p=%41%25zz"
    assert sent.headers["host"] == f"127.0.0.1:{srv.port}"
    assert sent.headers["accept-encoding"] == "gzip, deflate"
    assert sent.headers["accept"] == "*/*"


def test_credentials_in_the_url_are_sent_as_basic_auth(srv: HostileServer) -> None:
    srv.static("/private", b"ok")
    assert fetch(srv.url("/private").replace("://", "://reader:p%40ss@")).body == b"ok"
    assert srv.requests[0].headers["authorization"] == "Basic " + base64.b64encode(b"reader:p@ss").decode()
    assert srv.requests[0].headers["host"] == f"127.0.0.1:{srv.port}"


def test_host_names_and_ports_for_the_wire() -> None:
    """IDNA for a name in another script, brackets for IPv6, no port when it is the default."""
    idn = _target("x", "https://пример.мон/лента")
    assert idn.host == "xn--e1afmkfd.xn--l1acc" and idn.url.host == b"xn--e1afmkfd.xn--l1acc"
    assert _target("x", "HTTP://Example.ORG:80/").host == "example.org"
    assert _target("x", "https://example.org:8443/").host == "example.org:8443"
    v6 = _target("x", "http://[::1]:8080/a")
    assert (v6.host, v6.url.host, v6.url.port) == ("[::1]:8080", b"::1", 8080)
    for bad in (
        "http://example.org:99999/",
        "http://ex ample.org/",
        "http://[::zz]/",
        "http://ex%41mple.org/",
    ):
        with pytest.raises(FetchError, match="malformed URL"):
            fetch(bad)


def test_repeated_response_headers_are_joined(srv: HostileServer) -> None:
    def two_links(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Link", "<a>")
        h.send_header("Link", "<b>")
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")

    srv.route("/links", two_links)
    headers = fetch(srv.url("/links")).headers
    assert headers["link"] == "<a>, <b>" and headers["content-length"] == "2"


def fetch_all(srv: HostileServer, *paths: str, **kw: str) -> list[FetchResult | FetchError]:
    """Fetch ``paths`` one after another with one Fetcher (one connection pool)."""

    async def go() -> list[FetchResult | FetchError]:
        out: list[FetchResult | FetchError] = []
        async with Fetcher(LOOPBACK, FetchLimits(politeness_delay=0, retries=0)) as f:
            for path in paths:
                try:
                    out.append(await f.fetch(srv.url(path), **kw))
                except FetchError as exc:
                    out.append(exc)
        return out

    return asyncio.run(go())


def test_a_conditional_get_keeps_the_connection_for_the_next(srv: HostileServer) -> None:
    """A re-run is a round of 304s; each must leave its connection in the pool (no new TCP
    connection, against https no new TLS handshake), so the server sees one connection."""
    srv.route("/a", lambda h: reply(h, 304, headers={"ETag": '"v1"'}))
    srv.route("/b", lambda h: reply(h, 304, headers={"ETag": '"v1"'}))
    results = fetch_all(srv, "/a", "/b", "/a", etag='"v1"')
    assert [r.not_modified for r in results if isinstance(r, FetchResult)] == [True, True, True]
    assert len(srv.requests) == 3
    assert srv.connections == 1


def test_errors_and_redirects_keep_the_connection(srv: HostileServer) -> None:
    """A 404, a 503 or a redirect has a (small) body nobody reads: it is read off the wire
    so the connection can serve the next request."""
    srv.route("/old", lambda h: reply(h, 301, b"moved", {"Location": "/new"}))
    srv.static("/new", b"here")
    srv.route("/busy", lambda h: reply(h, 503, b"busy"))
    results = fetch_all(srv, "/missing", "/old", "/busy", "/new")
    assert [str(r) if isinstance(r, FetchError) else r.body for r in results][1::2] == [b"here", b"here"]
    assert isinstance(results[0], FetchError) and isinstance(results[2], FetchError)
    assert len(srv.requests) == 5
    assert srv.connections == 1


def test_a_large_unread_body_is_not_drained(srv: HostileServer) -> None:
    """Reading off a body nobody wants is bounded: a big error page costs a new connection,
    not its download."""
    srv.route("/huge", lambda h: reply(h, 404, b"x" * (4 * 1024 * 1024)))
    srv.static("/ok", b"ok")
    results = fetch_all(srv, "/huge", "/ok")
    assert isinstance(results[0], FetchError) and "HTTP 404" in str(results[0])
    assert isinstance(results[1], FetchResult) and results[1].body == b"ok"
    assert srv.connections == 2


@contextmanager
def _untrusted_https() -> Iterator[str]:
    """An https server on 127.0.0.1 whose certificate comes from a CA nobody trusts; its URL."""
    cert = trustme.CA().issue_cert("127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_tls_is_always_verified() -> None:
    """A server with a certificate from an unknown CA is refused, never silently trusted."""
    with _untrusted_https() as url, pytest.raises(FetchError, match=r"(?i)certificate"):
        fetch(url, limits=FetchLimits(politeness_delay=0, retries=0))


def test_the_tls_context_is_built_once_and_only_for_https(srv: HostileServer) -> None:
    """Loading the CA bundle costs 15-20 ms: a Fetcher that fetches only http never does,
    one that makes several https connections does it once."""
    srv.static("/x", b"plain")

    async def go(https: str) -> list[ssl.SSLContext | None]:
        seen = []
        async with Fetcher(LOOPBACK, FetchLimits(politeness_delay=0, retries=0)) as f:
            assert (await f.fetch(srv.url("/x"))).body == b"plain"
            seen.append(f._tls._context)
            for _ in range(2):
                with pytest.raises(FetchError, match=r"(?i)certificate"):
                    await f.fetch(https)
                seen.append(f._tls._context)
        return seen

    with _untrusted_https() as https:
        plain, first, second = asyncio.run(go(https))
    assert plain is None
    assert first is not None and first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
