"""One root for every error osint raises on purpose.

Library code raises these; only the CLI turns them into one-line messages and exit
codes, so a stage never decides how a failure is shown.

    OsintError
    ├── ConfigError          bad settings, feeds.yaml or country profile
    ├── StoreError           the database cannot be opened, migrated or written
    ├── BusyError            another process holds the lock for this job
    ├── FetchError           one HTTP fetch failed (carries the URL)
    │   └── BlockedAddressError   the address is private/internal and not allowed
    ├── FeedError            a body is not a usable feed or listing page
    ├── ExtractError         an article page yielded no usable text
    ├── ReportError          a report cannot be built or rendered
    ├── DeliveryError        an email could not be sent
    ├── ReviewError          an edit, undo or approval the review record refuses
    ├── LLMError             the LLM endpoint failed or answered unusably
    │   └── LLMUnavailable   no useful answer after the retries, a refusal, or no time left
    ├── TransientError       an outbound call failed in a way worth another try (osint.retry);
    │                        whoever gives up turns it into one of the errors above
    └── WorkerError          a task in a worker process ran out of time or lost its worker
                             (osint.workers); the caller turns it into its own error
"""

from __future__ import annotations


class OsintError(Exception):
    """Root of all osint errors."""


class ConfigError(OsintError):
    """Settings, feeds.yaml or the country profile are unusable."""


class StoreError(OsintError):
    """The SQLite store cannot be opened, migrated or written."""


class BusyError(OsintError):
    """Another process is doing the same job on the same store right now."""


class FetchError(OsintError):
    """One HTTP request failed; ``url`` says which."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url
        self.reason = message


class BlockedAddressError(FetchError):
    """The host resolves to an address the network policy refuses."""


class FeedError(OsintError):
    """A response body is not a usable feed or listing page."""


class ExtractError(OsintError):
    """An article page yielded no usable text."""


class ReportError(OsintError):
    """A report cannot be built or rendered."""


class DeliveryError(OsintError):
    """An email could not be sent."""


class LLMError(OsintError):
    """The LLM endpoint failed or answered something unusable."""


class TransientError(OsintError):
    """A timeout, a broken connection, a 429 or a 5xx: worth another try.

    Raised by an outbound operation for :class:`osint.retry.RetryPolicy` to retry;
    ``wait`` is how long the server asked for (its ``Retry-After``), if it did. When the
    attempts run out the caller turns it into its own error (``FetchError`` and so on),
    so it never reaches the CLI.
    """

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class ReviewError(OsintError):
    """An edit, undo or approval that the review record refuses (bad op, unknown edit)."""


class LLMUnavailable(LLMError):
    """Timeouts, connection errors, 429 or 5xx outlasted the retries, the server refused, or
    the report's time budget for the model ran out: asking again this run is pointless."""


class WorkerError(OsintError):
    """A task in a worker process ran past its time limit (its worker was replaced) or
    its worker died; raised by :mod:`osint.workers`, turned into the caller's own error."""
