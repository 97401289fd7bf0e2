"""One retry policy for every outbound call: the web fetcher, SMTP and the LLM client.

Each of them once had its own loop, with its own idea of a backoff and its own copy of
a "retry me" exception. Now an operation says a failure is worth another try by raising
:class:`~osint.errors.TransientError` (with the server's wait, if it named one), and a
:class:`RetryPolicy` decides how often and how long to wait::

    policy = RetryPolicy(attempts=3, backoff=1.0, jitter=False, max_wait=30.0)

    # synchronous (SMTP, the LLM client); ``sleep`` is the seam tests use to record waits
    answer = policy.call(lambda: send_once(request), sleep=self._sleep, what="LLM endpoint")

    # asynchronous (the fetcher)
    result = await policy.acall(lambda: fetch_once(url), what=url)

    # an operation that cannot raise TransientError (smtplib's own exceptions): say
    # which failures are transient instead
    policy.call(send, retry_if=lambda exc: isinstance(exc, OSError))

    # a 429 or 503 tells the client how long to wait
    raise TransientError("HTTP 429", wait=retry_after_seconds(resp.headers.get("retry-after"), 30))

After the last attempt the last exception is raised as it is, so the caller turns it
into its own error (``FetchError``, ``LLMUnavailable``, ``DeliveryError``); anything
``retry_if`` does not accept is raised at once.

Built on tenacity (pinned), not stamina and not a loop of our own: tenacity runs the same
policy synchronously and under asyncio, takes the sleep function as a parameter (so tests
record waits instead of sleeping, as SMTP's and the LLM client's tests already did) and
lets the wait depend on the exception (a capped ``Retry-After``). stamina is a friendly
layer over tenacity whose fixed jittered backoff has no room for a server-named wait or
for SMTP's plain doubling; a loop of our own would be the third copy this module replaces.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import tenacity

from .errors import TransientError

log = logging.getLogger(__name__)

T = TypeVar("T")


def retry_after_seconds(value: str | None, cap: float) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds, at most ``cap``.

    None when the header is absent or unreadable; 0 for a date already past.
    """
    if not value:
        return None
    value = value.strip()
    seconds: float
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


def is_transient(exc: BaseException) -> bool:
    """The default test of what to retry: the operation raised :class:`TransientError`."""
    return isinstance(exc, TransientError)


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try an outbound call and how long to wait in between."""

    attempts: int = 3
    """Tries in all, the first one included (1: no retry)."""
    backoff: float = 0.5
    """Seconds before the first retry; doubled before each one after."""
    jitter: bool = True
    """Stretch each backoff by a random 0-100 %, so clients that failed together do not retry in step."""
    max_wait: float = 30.0
    """The longest wait, a server's ``Retry-After`` included."""
    log_level: int = logging.WARNING
    """How loudly a retry is logged (the fetcher, retrying many hosts, says it at INFO)."""

    def wait(self, retry: int, exc: BaseException | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first) after ``exc``."""
        named = getattr(exc, "wait", None)
        if isinstance(named, int | float):
            return max(0.0, min(float(named), self.max_wait))
        base = self.backoff * 2.0 ** (retry - 1)
        if self.jitter:
            base *= 1 + random.random()
        return min(base, self.max_wait)

    def _options(
        self,
        retry_if: Callable[[BaseException], bool],
        what: str,
        describe: Callable[[BaseException], str] | None,
    ) -> dict[str, object]:
        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.wait(state.attempt_number, exc)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.log(
                self.log_level,
                "%s: attempt %d of %d failed (%s); retrying in %.1f s",
                what or "outbound call",
                state.attempt_number,
                self.attempts,
                (describe(exc) if describe and exc else None) or getattr(exc, "reason", None) or exc,
                state.upcoming_sleep,
            )

        return {
            "stop": tenacity.stop_after_attempt(max(1, self.attempts)),
            "wait": wait,
            "retry": tenacity.retry_if_exception(retry_if),
            "before_sleep": before_sleep,
            "reraise": True,
        }

    def call(
        self,
        fn: Callable[[], T],
        *,
        retry_if: Callable[[BaseException], bool] = is_transient,
        sleep: Callable[[float], None] = time.sleep,
        what: str = "",
        describe: Callable[[BaseException], str] | None = None,
    ) -> T:
        """``fn()``, tried again after each failure ``retry_if`` accepts, up to :attr:`attempts`.

        ``what`` names the other end in the log line of each retry; ``describe`` turns a
        failure into words for it (default: a TransientError's reason).
        """
        retrying = tenacity.Retrying(sleep=sleep, **self._options(retry_if, what, describe))  # type: ignore[arg-type]
        return retrying(fn)

    async def acall(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        retry_if: Callable[[BaseException], bool] = is_transient,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        what: str = "",
        describe: Callable[[BaseException], str] | None = None,
    ) -> T:
        """``await fn()`` under the same policy, waiting without blocking the event loop."""
        retrying = tenacity.AsyncRetrying(sleep=sleep, **self._options(retry_if, what, describe))  # type: ignore[arg-type]
        return await retrying(fn)
