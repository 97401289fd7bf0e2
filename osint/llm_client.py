"""The one client for a chat model server: OpenAI-compatible ``/v1/chat/completions``, or Ollama's own API.

Ollama, the llama.cpp server, vLLM and hosted APIs all speak the OpenAI protocol, so the
client uses only its common core: ``model``, ``messages``, ``temperature`` (always 0, so
a re-run asks the same question the same way), ``max_tokens`` and ``stream``. A base URL
whose path is Ollama's ``/api`` is spoken to in Ollama's native protocol instead
(``/api/chat``, ``format`` and ``options.num_ctx``), which lets the client set the
context size that Ollama otherwise keeps small.

Structured output: when the engine gives the answer's JSON schema, the server is asked to
constrain its output to it, in the most specific form it accepts, stepping down on a 4xx
that names the field: ``{"type": "json_schema", ...}`` (OpenAI, vLLM, llama.cpp, Ollama's
``/v1``) → ``{"type": "json_object", "schema": ...}`` (llama-cpp-python, Anyscale) →
``{"type": "json_object"}`` → no format at all. The form that worked is kept for the
rest of the run; the engine parses and validates the answer as text either way.

Slow is not dead: answers are streamed (server-sent events, or Ollama's JSON lines), and
``timeout`` counts seconds of *silence* — before the first token and between chunks —
not the whole answer, so a CPU model that reads a long prompt slowly and then writes
steadily is waited for. What bounds a whole answer is the caller's ``deadline`` (the
engine's time budget for the report).

The endpoint is the operator's own configuration, not web input, so it is not put behind
the collector's address guard; but it is still bounded: connect and silence timeouts, the
caller's deadline, a size cap on the answer, no redirects, and bounded retries of
timeouts, connection errors, 429 (honouring ``Retry-After`` up to a cap) and 5xx, under
the one retry policy of every outbound call (:mod:`osint.retry`). The API key goes only
into the ``Authorization: Bearer`` header and is never logged or put into an error
message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

import httpx

from .errors import ConfigError, LLMError, LLMUnavailable, TransientError
from .retry import RetryPolicy, retry_after_seconds

log = logging.getLogger(__name__)

FORMATS = ("json_schema", "json_object_schema", "json_object", "none")
"""The ways of asking for JSON, most specific first (see the module docstring)."""


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatLimits:
    """Bounds on one chat request; defaults suit a local model writing a part of a report."""

    timeout: float = 120.0
    """Seconds to connect, and seconds the server may stay silent while answering."""
    retries: int = 2
    """Further attempts after a timeout, connection error, 429 or 5xx."""
    backoff: float = 1.0
    """Seconds before the first retry of a 5xx or a timeout; doubled each time."""
    max_retry_after: float = 30.0
    """The longest ``Retry-After`` honoured; a longer one is cut to this."""
    max_bytes: int = 2 * 1024 * 1024
    max_tokens: int = 1024
    """The longest answer asked for, in tokens (a call may ask for fewer)."""
    context: int | None = None
    """The context size to ask an Ollama server for (``options.num_ctx``)."""


@dataclass(frozen=True)
class Completion:
    """One answer: its text, how long it took, and what the server said it cost."""

    text: str
    seconds: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None


def chat_endpoint(base_url: str) -> str:
    """The chat URL for a base URL as the OpenAI SDKs (or Ollama) take it.

    ``http://host:8080/v1`` -> ``http://host:8080/v1/chat/completions``; a base with no
    path gets ``/v1``; a full ``.../chat/completions`` URL is kept; Ollama's native
    ``http://host:11434/api`` -> ``http://host:11434/api/chat``.
    """
    url = base_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"OSINT_LLM_BASE_URL: {base_url!r} is not an http(s) URL")
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions") or path.endswith("/api/chat"):
        return url
    if path.endswith("/api"):
        return parts._replace(path=f"{path}/chat", query="", fragment="").geturl()
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
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = "osint-report",
    ) -> None:
        self.endpoint = chat_endpoint(base_url)
        self.protocol: Literal["openai", "ollama"] = (
            "ollama" if urlsplit(self.endpoint).path.endswith("/api/chat") else "openai"
        )
        self.model = model
        self.limits = limits or ChatLimits()
        self._sleep = sleep
        self._clock = clock
        self._headers = {"Accept": "application/json, text/event-stream", "User-Agent": user_agent}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._format = 0
        """Index into :data:`FORMATS`: the most specific form the server has not refused."""

    def parameters(self) -> dict[str, Any]:
        """Everything sent besides the messages and schema; part of a cached answer's key."""
        return {"model": self.model, "temperature": 0, "max_tokens": self.limits.max_tokens}

    @property
    def format(self) -> str:
        """How JSON is asked for now (one of :data:`FORMATS`)."""
        return FORMATS[self._format]

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        deadline: float | None = None,
        penalty: float | None = None,
    ) -> Completion:
        """The model's answer to ``messages``; :class:`LLMError` when there is none.

        ``schema`` is the JSON schema the answer must follow; ``deadline`` a time on the
        client's clock after which no answer is waited for (and no retry is started);
        ``penalty`` a frequency penalty (OpenAI's ``frequency_penalty``, which llama.cpp,
        vLLM and Ollama take too), for asking again a model that ran on in a loop.
        """
        lim = self.limits
        policy = RetryPolicy(
            attempts=lim.retries + 1, backoff=lim.backoff, jitter=False, max_wait=lim.max_retry_after
        )
        tries = 0

        def once() -> Completion:
            nonlocal tries
            tries += 1
            return self._once(messages, schema, max_tokens or lim.max_tokens, deadline, penalty)

        def worth_another(exc: BaseException) -> bool:
            if not isinstance(exc, TransientError):
                return False
            wait = policy.wait(tries, exc)
            return deadline is None or self._clock() + wait < deadline

        try:
            return policy.call(once, retry_if=worth_another, sleep=self._sleep, what="LLM endpoint")
        except TransientError as exc:
            spent = "" if tries == lim.retries + 1 else "; no time left in the budget to retry"
            raise LLMUnavailable(
                f"{exc.reason} after {tries} {'try' if tries == 1 else 'tries'}{spent}"
            ) from None

    # ------------------------------------------------------------------ one request

    def _body(
        self,
        messages: Sequence[ChatMessage],
        schema: dict[str, Any] | None,
        tokens: int,
        penalty: float | None = None,
    ) -> dict[str, Any]:
        if self.protocol == "ollama":
            options: dict[str, Any] = {"temperature": 0, "num_predict": tokens}
            if penalty is not None:
                options["frequency_penalty"] = penalty
            if self.limits.context:
                options["num_ctx"] = self.limits.context
            body: dict[str, Any] = {"model": self.model, "messages": list(messages), "stream": True}
            body["options"] = options
            if self.format != "none":
                body["format"] = schema if schema is not None and self._format <= 1 else "json"
            return body
        body = {**self.parameters(), "max_tokens": tokens, "messages": list(messages), "stream": True}
        body["stream_options"] = {"include_usage": True}  # the token counts, in the last chunk
        if penalty is not None:
            body["frequency_penalty"] = penalty
        fmt = self.format
        if schema is None and fmt in ("json_schema", "json_object_schema"):
            fmt = "json_object"
        if fmt == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "strict": True, "schema": schema},
            }
        elif fmt == "json_object_schema":
            body["response_format"] = {"type": "json_object", "schema": schema}
        elif fmt == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def _once(
        self,
        messages: Sequence[ChatMessage],
        schema: dict[str, Any] | None,
        tokens: int,
        deadline: float | None,
        penalty: float | None = None,
    ) -> Completion:
        lim = self.limits
        silence = lim.timeout
        if deadline is not None:
            left = deadline - self._clock()
            if left <= 0:
                raise LLMUnavailable("the time budget ran out")
            silence = min(silence, left)
        timeout = httpx.Timeout(silence, connect=min(silence, 10.0))
        started = self._clock()
        body = self._body(messages, schema, tokens, penalty)
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False, headers=self._headers) as http,
                http.stream("POST", self.endpoint, json=body) as resp,
            ):
                status = resp.status_code
                if status == 429 or status == 503:
                    wait = retry_after_seconds(resp.headers.get("retry-after"), lim.max_retry_after)
                    raise TransientError(f"HTTP {status}", wait)
                if status >= 300:
                    detail = _read_capped(resp.iter_bytes(), 64 * 1024).decode("utf-8", "replace").lower()
                    # llama-cpp-python answers 500, not 422, when it cannot read response_format.
                    if status in (400, 422, 500) and self._refuses_format(detail, strict=status == 500):
                        log.info("LLM endpoint refuses %s; asking in a plainer form", self.format)
                        # Ollama takes a schema in one form only: step past the other.
                        self._format = (
                            2 if self.protocol == "ollama" and self._format < 2 else self._format + 1
                        )
                        return self._once(messages, schema, tokens, deadline, penalty)
                    if status >= 500:
                        raise TransientError(f"HTTP {status}")
                    raise LLMUnavailable(f"HTTP {status} from the endpoint")
                ctype = resp.headers.get("content-type", "")
                reader = _Reader(lim.max_bytes, deadline, self._clock)
                if self.protocol == "ollama":
                    text, usage = _ollama_lines(reader.lines(resp.iter_lines()))
                elif "text/event-stream" in ctype:
                    text, usage = _sse(reader.lines(resp.iter_lines()))
                else:  # a server that ignores "stream" answers one JSON body
                    text, usage = _whole(reader.body(resp.iter_bytes()))
        except httpx.TimeoutException as exc:
            if deadline is not None and self._clock() >= deadline - 0.001:
                raise LLMUnavailable("the time budget ran out while waiting for the answer") from None
            raise TransientError(f"silent for more than {silence:g} s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientError(f"connection failed ({type(exc).__name__})") from None
        return Completion(text, self._clock() - started, *usage)

    def _refuses_format(self, detail: str, *, strict: bool = False) -> bool:
        """Whether an error body says the server cannot take the JSON format asked for."""
        if self.format == "none":
            return False
        words = ("response_format",) if strict else ("response_format", "json_schema", "format", "schema")
        return any(word in detail for word in words)

    # ------------------------------------------------------------------ what the server says

    def context_window(self) -> int | None:
        """The context size the server reports for the model, or None if it says nothing.

        llama.cpp's server says it in ``/props``, vLLM in ``/v1/models`` (``max_model_len``),
        Ollama in ``/api/show``; llama-cpp-python's server does not say it.
        """
        parts = urlsplit(self.endpoint)
        root = parts._replace(path="", query="", fragment="").geturl()
        base = self.endpoint.rsplit("/chat", 1)[0]
        probes: list[tuple[str, str, dict[str, Any] | None]]
        if self.protocol == "ollama":
            probes = [("POST", f"{base}/show", {"model": self.model})]
        else:
            probes = [("GET", f"{root}/props", None), ("GET", f"{base}/models", None)]
        for method, url, payload in probes:
            try:
                with httpx.Client(timeout=5.0, follow_redirects=False, headers=self._headers) as http:
                    resp = http.request(method, url, json=payload)
                if resp.status_code != 200 or len(resp.content) > 4 * 1024 * 1024:
                    continue
                found = _context_in(resp.json(), self.model)
            except (httpx.HTTPError, ValueError):
                continue
            if found:
                return found
        return None


def _context_in(data: Any, model: str) -> int | None:
    """The context size in a /props, /v1/models or /api/show answer."""
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    if isinstance(settings, dict) and isinstance(settings.get("n_ctx"), int):
        return int(settings["n_ctx"])
    if isinstance(data.get("n_ctx"), int):
        return int(data["n_ctx"])
    info = data.get("model_info")
    if isinstance(info, dict):
        for key, value in info.items():
            if key.endswith(".context_length") and isinstance(value, int):
                return value
    models = data.get("data")
    if isinstance(models, list):
        for entry in models:
            if not isinstance(entry, dict) or entry.get("id") not in (model, None):
                continue
            if isinstance(entry.get("max_model_len"), int):
                return int(entry["max_model_len"])
            meta = entry.get("meta")
            if isinstance(meta, dict) and isinstance(meta.get("n_ctx"), int):
                return int(meta["n_ctx"])
    return None


class _Reader:
    """Reads a response within the size cap and the caller's deadline."""

    def __init__(self, max_bytes: int, deadline: float | None, clock: Callable[[], float]) -> None:
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.clock = clock
        self.size = 0

    def _count(self, n: int) -> None:
        self.size += n
        if self.size > self.max_bytes:
            raise LLMUnavailable(f"answer larger than {self.max_bytes} bytes")
        if self.deadline is not None and self.clock() > self.deadline:
            raise LLMUnavailable("the time budget ran out while the answer was being written")

    def lines(self, lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            self._count(len(line) + 1)
            yield line

    def body(self, chunks: Iterator[bytes]) -> bytes:
        out = bytearray()
        for chunk in chunks:
            self._count(len(chunk))
            out.extend(chunk)
        return bytes(out)


Usage = tuple[int | None, int | None, str | None]


def _read_capped(chunks: Iterator[bytes], cap: int) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out.extend(chunk)
        if len(out) >= cap:
            break
    return bytes(out[:cap])


def _usage(data: dict[str, Any]) -> tuple[int | None, int | None]:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None, None
    p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (p if isinstance(p, int) else None, c if isinstance(c, int) else None)


def _sse(lines: Iterator[str]) -> tuple[str, Usage]:
    """The text of an OpenAI-style event stream (``data: {...}`` lines, ``data: [DONE]``)."""
    parts: list[str] = []
    prompt = completion = None
    finish: str | None = None
    for line in lines:
        if not line.startswith("data:"):
            continue  # comments (": ping"), event names, blank separators
        payload = line[5:].strip()
        if payload == "[DONE]":
            break
        try:
            data = json.loads(payload)
        except ValueError:
            raise LLMError("the endpoint's event stream carries something other than JSON") from None
        if not isinstance(data, dict):
            continue
        if "error" in data:
            raise LLMError("the endpoint reported an error in the middle of its answer")
        p, c = _usage(data)
        prompt, completion = p or prompt, c or completion
        for choice in data.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str):
                parts.append(content)
            finish = choice.get("finish_reason") or finish
    return "".join(parts), (prompt, completion, finish)


def _ollama_lines(lines: Iterator[str]) -> tuple[str, Usage]:
    """The text of Ollama's streamed JSON lines (``{"message": {"content": ...}, "done": ...}``)."""
    parts: list[str] = []
    usage: Usage = (None, None, None)
    for line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise LLMError("the endpoint's stream carries something other than JSON lines") from None
        if not isinstance(data, dict):
            continue
        if "error" in data:
            raise LLMError("the endpoint reported an error in the middle of its answer")
        message = data.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            parts.append(message["content"])
        if data.get("done"):
            p, c = data.get("prompt_eval_count"), data.get("eval_count")
            reason = data.get("done_reason")
            usage = (
                p if isinstance(p, int) else None,
                c if isinstance(c, int) else None,
                reason if isinstance(reason, str) else None,
            )
            break
    return "".join(parts), usage


def _whole(body: bytes) -> tuple[str, Usage]:
    """``choices[0].message.content`` of a chat-completions response body."""
    try:
        data = json.loads(body)
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError("the endpoint's response is not a chat completion") from None
    if not isinstance(content, str):
        raise LLMError("the chat completion has no text content")
    p, c = _usage(data)
    reason = choice.get("finish_reason")
    return content, (p, c, reason if isinstance(reason, str) else None)
