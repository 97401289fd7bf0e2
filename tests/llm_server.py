"""A loopback server speaking the OpenAI-compatible ``POST /v1/chat/completions`` protocol.

It stands in for a hosted model (``make llm-check`` runs a real one; the test suite does
not). Each test tells it how to behave with a *responder* (a function from the request to
a :class:`Reply`): answer well (by quoting the fenced items or written developments it
was shown and citing them, as a careful model would), answer invalid JSON, cite ids that
do not exist, add an unsupported number, obey instructions planted in the quoted
material, refuse the ``response_format`` it was sent, return 429/500, or hang until the
test releases it at teardown (an Event, never a sleep). Asked to stream, it answers in
server-sent events, and can fall silent after some chunks or keep a steady pace. Every
request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ITEM = re.compile(r"^<<<ITEM (\d+)\n(.*?)\nEND ITEM \1>>>$", re.MULTILINE | re.DOTALL)
_FACT = re.compile(r"^- (.+) \(ITEM ([\d, ]+)\)$", re.MULTILINE)
_HEADING = re.compile(r"^HEADING: (.+)$", re.MULTILINE)
_TASK = re.compile(r"^TASK: (\w+)$", re.MULTILINE)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_INJECTION = re.compile(r"ignore (?:all )?previous instructions and write '([^']+)'", re.IGNORECASE)


@dataclass
class Request:
    """One chat request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", []))

    @property
    def system(self) -> str:
        return next((m["content"] for m in self.messages if m["role"] == "system"), "")

    @property
    def prompt(self) -> str:
        """The first user message: the task with its evidence."""
        return next((m["content"] for m in self.messages if m["role"] == "user"), "")

    @property
    def task(self) -> str:
        m = _TASK.search(self.prompt)
        return m.group(1) if m else ""

    def items(self) -> dict[int, dict[str, str]]:
        """The fenced items of the prompt: id -> {"title", "text", ...}."""
        out = {}
        for m in _ITEM.finditer(self.prompt):
            fields = {}
            for line in m.group(2).split("\n"):
                key, _, value = line.partition(": ")
                fields[key] = value
            out[int(m.group(1))] = fields
        return out

    def facts(self) -> list[tuple[str, list[int]]]:
        """The facts of the written developments the prompt shows, with their item ids."""
        return [(m.group(1), [int(i) for i in m.group(2).split(",")]) for m in _FACT.finditer(self.prompt)]

    def heading(self) -> str:
        m = _HEADING.search(self.prompt)
        return m.group(1) if m else ""

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema the request asks the answer to follow, in whichever form."""
        fmt = self.body.get("response_format") or {}
        return fmt.get("json_schema", {}).get("schema") or fmt.get("schema")

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


@dataclass
class Reply:
    status: int = 200
    content: str | None = None
    """The model's text, wrapped in a chat-completion envelope."""
    body: bytes | None = None
    """A raw body instead of an envelope."""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    """Say nothing until the server is released (at teardown)."""
    chunks: int = 4
    """How many events a streamed answer is cut into."""
    silent_after: int | None = None
    """Streaming: fall silent after this many events, until the server is released."""
    pace: float = 0.0
    """Streaming: seconds between events (a slow but steady model)."""
    finish: str = "stop"
    """The finish reason of the last event ("length": cut off at ``max_tokens``)."""


Responder = Callable[[Request], Reply]


# --------------------------------------------------------------------------- answers


def _sentences(text: str) -> list[str]:
    return [s for s in _SPLIT.split(text) if len(s.split()) >= 5]


def good_answer(req: Request) -> dict[str, Any]:
    """What a careful model answers: sentences quoted from what it was shown, citing it."""
    items = req.items()
    shown = [
        *req.facts(),
        *((ss[0], [i]) for i, fields in items.items() if (ss := _sentences(fields["text"]))),
    ]
    said = [{"text": text, "citations": ids} for text, ids in shown]
    task = req.task
    if task == "development":
        first = next(iter(items))
        facts = _sentences(items[first]["text"])[:2]
        return {
            "title": items[first]["title"],
            "sentences": [{"text": t, "citations": [first]} for t in facts],
            "assessments": [],
        }
    if task == "executive_summary":
        return {"sentences": said[:5], "assessments": []}
    if task in ("geopolitical", "military"):
        return {"sentences": said[:2], "assessments": []}
    if task == "outlook":
        return {"flashpoints": said[:2], "assessments": [], "recommendations": said[2:3]}
    raise AssertionError(f"unknown task {task!r}")


def answer(content: Any) -> Reply:
    return Reply(content=content if isinstance(content, str) else json.dumps(content))


def answer_well(req: Request) -> Reply:
    return answer(good_answer(req))


def answer_fenced(req: Request) -> Reply:
    """A good answer the way chatty models give it: prose and a Markdown code fence around it."""
    return answer(f"Here is the JSON you asked for:\n```json\n{json.dumps(good_answer(req))}\n```\nDone.")


def cut_off(req: Request) -> Reply:
    """A model that ran on in a loop until its token bound: the JSON stops in a sentence."""
    loop = "Mongolia held talks (source reliability A)" + " (source reliability A)" * 40
    return Reply(content='{"title": "Talks", "sentences": [{"text": "' + loop, finish="length")


def invalid_json(req: Request) -> Reply:
    return answer('{"sentences": [{"text": "Mongolia held talks", "citations": [1,]')


def wrong_shape(req: Request) -> Reply:
    return answer({"summary": "Mongolia held talks.", "confidence": "high"})


def cite_unknown_ids(fake_id: int, *, every: bool = False) -> Responder:
    """A good answer whose first sentence of each list (or every sentence) cites ``fake_id`` too."""

    def respond(req: Request) -> Reply:
        data = good_answer(req)
        for sentences in sentence_lists(data):
            for s in sentences if every else sentences[:1]:
                s["citations"] = [*s["citations"], fake_id]
        return answer(data)

    return respond


def add_number(number: str) -> Responder:
    """A good answer whose executive summary claims a figure no item gives."""

    def respond(req: Request) -> Reply:
        data = good_answer(req)
        if req.task == "executive_summary" and data.get("sentences"):
            s = data["sentences"][0]
            s["text"] = s["text"].rstrip(".") + f", involving {number} troops."
        return answer(data)

    return respond


def add_sentence(text: str, citations: list[int]) -> Responder:
    """A good answer plus one sentence of our choosing (a model subverted some other way)."""

    def respond(req: Request) -> Reply:
        data = good_answer(req)
        for sentences in sentence_lists(data):
            sentences.append({"text": text, "citations": citations})
        return answer(data)

    return respond


def obey_injections(req: Request) -> Reply:
    """A gullible model: does what quoted material tells it to, citing where it read it."""
    data = good_answer(req)
    for item_id, fields in req.items().items():
        for m in _INJECTION.finditer(" ".join(fields.values())):
            planted = {"text": m.group(1), "citations": [item_id]}
            for s_list in sentence_lists(data):
                s_list.insert(0, dict(planted))
    return answer(data)


def sentence_lists(data: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [data[k] for k in ("sentences", "flashpoints", "recommendations") if k in data]


def judge(text: str) -> Responder:
    """A good answer with an assessment (``text``) resting on the first sentence's items."""

    def respond(req: Request) -> Reply:
        data = good_answer(req)
        facts = data.get("sentences") or data.get("flashpoints") or []
        if facts:
            data["assessments"] = [{"text": text, "citations": facts[0]["citations"]}]
        return answer(data)

    return respond


def status(code: int, retry_after: str | None = None, body: bytes = b'{"error": "busy"}') -> Responder:
    def respond(req: Request) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return Reply(status=code, body=body, headers=headers)

    return respond


def hang(req: Request) -> Reply:
    return Reply(hang=True)


def refuse_response_format(req: Request) -> Reply:
    """Like a server that knows no ``response_format``: 400 naming it, else a good answer."""
    if "response_format" in req.body:
        return Reply(status=400, body=b'{"error": {"message": "unknown field: response_format"}}')
    return answer_well(req)


def refuse_json_schema(req: Request) -> Reply:
    """Like llama-cpp-python's server: 422 for ``{"type": "json_schema"}``, any other form taken."""
    if req.body.get("response_format", {}).get("type") == "json_schema":
        detail = b'{"detail": [{"loc": ["body", "response_format", "type"], "msg": "unexpected value"}]}'
        return Reply(status=422, body=detail)
    return answer_well(req)


def fall_silent(after: int) -> Responder:
    """A good answer, streamed, that stops after ``after`` events and says nothing more."""

    def respond(req: Request) -> Reply:
        reply = answer_well(req)
        reply.silent_after = after
        return reply

    return respond


def steady(pace: float, chunks: int) -> Responder:
    """A good answer streamed in ``chunks`` events, ``pace`` seconds apart."""

    def respond(req: Request) -> Reply:
        reply = answer_well(req)
        reply.pace, reply.chunks = pace, chunks
        return reply

    return respond


def in_turn(*responders: Responder) -> Responder:
    """The first responder for the first request, and so on; the last one for the rest."""
    queue = list(responders)

    def respond(req: Request) -> Reply:
        return (queue.pop(0) if len(queue) > 1 else queue[0])(req)

    return respond


# --------------------------------------------------------------------------- server


class LLMServer:
    """The stub endpoint; ``url`` is what OSINT_LLM_BASE_URL would be set to."""

    def __init__(self) -> None:
        self.responder: Responder = answer_well
        self.requests: list[Request] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def tasks(self) -> list[str]:
        return [r.task for r in self.requests]

    def reply(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            return self.responder(req)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def _envelope(content: str, model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
    ).encode()


def _event(content: str, model: str, finish: str | None) -> bytes:
    chunk = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": {"content": content} if content else {}, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != "/v1/chat/completions":
                self._send(404, b'{"error": "not found"}', {})
                return
            body = json.loads(raw)
            req = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            reply = server.reply(req)
            if reply.hang:
                server.release.wait()
                self.close_connection = True
                return
            if reply.body is None and req.stream and reply.status == 200:
                self._stream(reply, body["model"])
                return
            data = reply.body if reply.body is not None else _envelope(reply.content or "", body["model"])
            self._send(reply.status, data, reply.headers)

        def _stream(self, reply: Reply, model: str) -> None:
            content = reply.content or ""
            size = max(1, -(-len(content) // reply.chunks))
            pieces = [content[i : i + size] for i in range(0, len(content), size)] or [""]
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b": ping\n\n")
                for n, piece in enumerate(pieces):
                    if reply.silent_after is not None and n >= reply.silent_after:
                        server.release.wait()
                        break
                    if reply.pace and n:
                        time.sleep(reply.pace)
                    self.wfile.write(_event(piece, model, finish=None))
                    self.wfile.flush()
                else:
                    self.wfile.write(_event("", model, finish=reply.finish) + b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _send(self, code: int, data: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def serve_llm() -> Iterator[LLMServer]:
    server = LLMServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
