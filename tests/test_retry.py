"""The one retry policy (osint.retry): how often, how long, what is retried, sync and async."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from osint.errors import TransientError
from osint.retry import RetryPolicy, retry_after_seconds


class Flaky:
    """Fails ``times`` times with ``exc``, then answers."""

    def __init__(self, times: int, exc: BaseException) -> None:
        self.times, self.exc, self.calls = times, exc, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.exc
        return "ok"


def test_transient_failures_are_retried_with_doubling_waits() -> None:
    naps: list[float] = []
    op = Flaky(2, TransientError("HTTP 503"))
    policy = RetryPolicy(attempts=3, backoff=1.0, jitter=False)
    assert policy.call(op, sleep=naps.append) == "ok"
    assert op.calls == 3 and naps == [1.0, 2.0]


def test_the_last_failure_is_raised_as_it_is() -> None:
    naps: list[float] = []
    op = Flaky(5, TransientError("HTTP 502"))
    with pytest.raises(TransientError, match="HTTP 502"):
        RetryPolicy(attempts=3, backoff=1.0, jitter=False).call(op, sleep=naps.append)
    assert op.calls == 3 and naps == [1.0, 2.0]


def test_other_failures_are_not_retried() -> None:
    naps: list[float] = []
    op = Flaky(1, ValueError("bad answer"))
    with pytest.raises(ValueError):
        RetryPolicy(attempts=3).call(op, sleep=naps.append)
    assert op.calls == 1 and naps == []


def test_retry_if_decides_for_foreign_exceptions() -> None:
    naps: list[float] = []
    op = Flaky(1, ConnectionResetError("reset"))
    policy = RetryPolicy(attempts=2, backoff=0.5, jitter=False)
    assert policy.call(op, retry_if=lambda e: isinstance(e, OSError), sleep=naps.append) == "ok"
    assert naps == [0.5]


def test_a_server_named_wait_wins_but_is_capped() -> None:
    policy = RetryPolicy(backoff=1.0, jitter=False, max_wait=30.0)
    assert policy.wait(1, TransientError("HTTP 429", wait=7.0)) == 7.0
    assert policy.wait(1, TransientError("HTTP 429", wait=9999.0)) == 30.0
    assert policy.wait(3, TransientError("HTTP 500")) == 4.0


def test_jitter_stays_within_twice_the_backoff() -> None:
    policy = RetryPolicy(backoff=1.0, jitter=True, max_wait=100.0)
    waits = [policy.wait(2) for _ in range(200)]
    assert all(2.0 <= w <= 4.0 for w in waits) and len(set(waits)) > 1


def test_async_calls_use_the_same_policy() -> None:
    naps: list[float] = []
    calls = {"n": 0}

    async def op() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("timed out", wait=0.25)
        return "ok"

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    assert asyncio.run(RetryPolicy(attempts=2).acall(op, sleep=nap)) == "ok"
    assert calls["n"] == 2 and naps == [0.25]


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("5", 30) == 5
    assert retry_after_seconds(" 100000 ", 30) == 30
    assert retry_after_seconds(None, 30) is None and retry_after_seconds("", 30) is None
    assert retry_after_seconds("soon", 30) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    value = retry_after_seconds(later, 30)
    assert value is not None and 5 <= value <= 10
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 30) == 0.0
