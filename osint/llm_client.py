"""The one client for an OpenAI-compatible ``/v1/chat/completions`` endpoint, over httpx.

Ollama, the llama.cpp server, vLLM and hosted APIs all speak this protocol, so the
client uses only its common core: ``model``, ``messages``, ``temperature`` (always 0,
so a re-run asks the same question the same way) and ``max_tokens``. It asks for
``response_format: {"type": "json_object"}`` but does not rely on it: a server that
refuses the field with HTTP 400 is asked again without it, and the engine parses the
answer as text either way.

The endpoint is the operator's own configuration, not web input, so it is not put
behind the collector's address guard; but it is still bounded: a connect and read
timeout, an overall deadline per request, a size cap on the answer, no redirects, and
bounded retries of timeouts, connection errors, 429 (honouring ``Retry-After`` up to a
cap) and 5xx. The API key goes only into the ``Authorization: Bearer`` header and is
never logged or put into an error message.

    LLMError                      (osint.errors) any failure of this client
    └── LLMUnavailable            the endpoint did not answer usefully after the retries
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

import httpx

from .errors import ConfigError, LLMError
from .http import _retry_after_seconds

log = logging.getLogger(__name__)


class LLMUnavailable(LLMError):
    """Timeouts, connection errors, 429 or 5xx outlasted the retries, or the server refused."""


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatLimits:
    """Bounds on one chat request; defaults suit a local model writing a report section."""

    timeout: float = 120.0
    """Seconds to connect, and seconds the server may stay silent while answering."""
    deadline: float = 300.0
    """Seconds one request may take in all, however the server trickles its answer."""
    retries: int = 2
    """Further attempts after a timeout, connection error, 429 or 5xx."""
    backoff: float = 1.0
    """Seconds before the first retry of a 5xx or a timeout; doubled each time."""
    max_retry_after: float = 30.0
    """The longest ``Retry-After`` honoured; a longer one is cut to this."""
    max_bytes: int = 2 * 1024 * 1024
    max_tokens: int = 2048


def chat_endpoint(base_url: str) -> str:
    """The chat-completions URL for a base URL as the OpenAI SDKs take it.

    ``http://host:11434/v1`` -> ``http://host:11434/v1/chat/completions``; a base
    with no path gets ``/v1``; a full ``.../chat/completions`` URL is kept.
    """
    url = base_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"OSINT_LLM_BASE_URL: {base_url!r} is not an http(s) URL")
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        return url
    if not path:
        path = "/v1"
    return parts._replace(path=f"{path}/chat/completions", query="", fragment="").geturl()


class ChatClient:
    """Sends chat requests to one model on one endpoint; returns the answer's text."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        limits: ChatLimits | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "osint-report",
    ) -> None:
        self.endpoint = chat_endpoint(base_url)
        self.model = model
        self.limits = limits or ChatLimits()
        self._sleep = sleep
        self._headers = {"Accept": "application/json", "User-Agent": user_agent}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._json_mode = True
        self.requests = 0
        """How many HTTP requests this client has sent (for the run's statistics)."""

    def parameters(self) -> dict[str, Any]:
        """Everything sent besides the messages; part of what a cached answer is keyed by."""
        return {"model": self.model, "temperature": 0, "max_tokens": self.limits.max_tokens}

    def complete(self, messages: Sequence[ChatMessage]) -> str:
        """The text of the model's answer to ``messages``; :class:`LLMError` when there is none."""
        lim = self.limits
        last = "no attempt"
        for attempt in range(lim.retries + 1):
            try:
                return self._once(messages)
            except _Retryable as exc:
                last = exc.reason
                if attempt == lim.retries:
                    break
                wait = exc.wait if exc.wait is not None else lim.backoff * 2**attempt
                log.warning("LLM endpoint: %s; retrying in %.1f s", exc.reason, wait)
                self._sleep(wait)
        tries = lim.retries + 1
        raise LLMUnavailable(f"{last} after {tries} {'try' if tries == 1 else 'tries'}")

    def _body(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        body = {**self.parameters(), "messages": list(messages), "stream": False}
        if self._json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _once(self, messages: Sequence[ChatMessage]) -> str:
        lim = self.limits
        timeout = httpx.Timeout(lim.timeout, connect=min(lim.timeout, 10.0))
        started = time.monotonic()
        self.requests += 1
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False, headers=self._headers) as http,
                http.stream("POST", self.endpoint, json=self._body(messages)) as resp,
            ):
                status = resp.status_code
                if status == 429 or status == 503:
                    wait = _retry_after_seconds(resp.headers.get("retry-after"), lim.max_retry_after)
                    raise _Retryable(f"HTTP {status}", wait)
                if status >= 500:
                    raise _Retryable(f"HTTP {status}")
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body.extend(chunk)
                    if len(body) > lim.max_bytes:
                        raise LLMUnavailable(f"answer larger than {lim.max_bytes} bytes")
                    if time.monotonic() - started > lim.deadline:
                        raise _Retryable(f"answer took longer than {lim.deadline:g} s")
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        if status == 400 and self._json_mode and b"response_format" in body:
            log.info("LLM endpoint refuses response_format; asking without it")
            self._json_mode = False
            return self._once(messages)
        if status >= 300:
            raise LLMUnavailable(f"HTTP {status} from the endpoint")
        return _content(bytes(body))


def _content(body: bytes) -> str:
    """``choices[0].message.content`` of a chat-completions response body."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError("the endpoint's response is not a chat completion") from None
    if not isinstance(content, str):
        raise LLMError("the chat completion has no text content")
    return content


class _Retryable(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
