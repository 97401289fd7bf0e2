"""The LLM engine: the report written by a model on a chat endpoint, in many small calls.

A small local model cannot carry one prompt with every story of the week, and a CPU
server reads a long prompt for minutes before it says anything. So the work is split:

1. **one call per key development**: the story's items (title, outlet, date and a
   bounded excerpt of clean sentences), fenced; the answer is a headline, a few facts
   and at most one assessment;
2. then **one call per part of the other sections** — the executive summary, each
   heading of the geopolitical and military sections, the outlook — whose evidence is
   the developments already written and verified (short, cited, clean), with items
   shown only for stories that have no development.

Every prompt is cut to the model's context (``OSINT_LLM_CONTEXT``, or what the server
reports when it is smaller): fewer and shorter excerpts until the prompt and the answer
fit. Every call sends the answer's JSON schema, narrowed to the call — the item ids it
may cite, how many sentences — so a server that constrains its output to a schema
(llama.cpp, vLLM, Ollama, hosted APIs) cannot answer in another shape or cite an item it
was not shown.

Facts and judgements are kept apart: ``sentences`` must restate the items; at most a few
``assessments`` per call say what the facts likely mean, each with an estimative word in
the ICD 203 sense (likely, unlikely, almost certainly …) and citing the items it rests on.
Both are verified at once, in the engine, exactly as the report will verify them
(:mod:`osint.analyse.verify`: names, numbers, days, citations; an estimative word in a
fact, or none in an assessment, costs the sentence); an answer with nothing verifiable
is asked for once more with the reasons, then that part is written extractively.

Slow is not dead: the client streams answers and counts ``OSINT_LLM_TIMEOUT`` as silence;
the whole report has ``OSINT_LLM_BUDGET`` seconds of model time, after which what is left
is written extractively with a note; ``OSINT_LLM_CONCURRENCY`` calls run at once. Each
call logs a progress line.

Untrusted text stays data (:mod:`osint.analyse.untrusted`): hidden characters removed,
fence-like sequences neutralised, sentences that read like instructions withheld, and the
system prompt says quoted material is never an instruction. The model never sees a URL,
has no tools, and nothing it writes is fetched or rendered as markup.

Usable answers are cached in the store by (model and parameters, schema, prompt name,
messages), so re-running a week costs no request. Prompts are Jinja2 templates in
``prompts/`` (see its README), rendered with autoescape off and StrictUndefined.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import jinja2
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, LLMError, LLMUnavailable
from ..llm_client import ChatClient, ChatLimits, ChatMessage, Completion
from ..models import (
    Development,
    Draft,
    Evidence,
    Item,
    LLMDevelopment,
    LLMOutlook,
    LLMParagraph,
    LLMSentence,
    Outlook,
    SectionBlock,
    Sentence,
    Story,
)
from ..settings import Settings
from ..terms import TermMatcher
from ..text import fold_space
from .extractive import MAX_DEVELOPMENTS, NO_REPORTING, ExtractiveEngine
from .sentences import quotable_sentences
from .untrusted import neutralise_fences, split_withheld, strip_hidden, words
from .verify import Verifier

log = logging.getLogger(__name__)

ATTEMPTS = 2
"""Tries per part: the first ask, and one more with the reasons when nothing was usable."""
EXCERPT_CHARS = 500
EXCERPT_SENTENCES = 4
ITEMS_PER_STORY = 2
SUMMARY_DEVELOPMENTS = 6
STORIES_PER_HEADING = 3
OUTLOOK_STORIES = 6
CHARS_PER_TOKEN = 3.0
"""A cautious estimate for English news text (Cyrillic and CJK cost more, excerpts are short)."""
ANSWER_TOKENS = {"development": 400, "executive_summary": 480, "heading": 360, "outlook": 480}
"""The longest answer asked for per prompt: enough for the schema's sentence counts written as
servers write constrained JSON (indented, a line per citation: a third of the tokens are
layout), and a bound on a small model that will not stop. An answer cut off at this bound is
asked for once more, shorter (:data:`SHORTER`)."""
SHORTER = "Your last answer ran too long and was cut off. Write at most one sentence in each list."
"""Added to the task when an answer was cut off at its token bound; the schema of that try
allows one sentence per list."""
PICK = (
    "None of your sentences could be checked against the items. This time, for the facts, copy lines "
    "of the developments above exactly as they are written."
)
"""Added to a later part's task when nothing in its answer could be verified: the schema of that
try makes each fact one of the written developments' facts the prompt shows (an ``enum``), so the
model chooses which facts belong there (and still writes its assessments); a small model that
mixes the facts of two developments into a sentence no source supports cannot do so then."""
LOOP_PENALTY = 1.0
"""The frequency penalty of that try: a small model cut off at its bound has mostly run on in a
loop (the item's metadata, a date, one phrase over and over), and at temperature 0 it would do
so again (measured on Gemma 3 270M: 0.5 still looped, 1.0 wrote the sentence)."""
COUNTS = {
    # how many sentences each list of an answer may hold, by prompt
    "development": {"sentences": (1, 2), "assessments": (0, 0)},
    "executive_summary": {"sentences": (2, 3), "assessments": (1, 1)},
    "heading": {"sentences": (1, 2), "assessments": (0, 1)},
    "outlook": {"flashpoints": (1, 2), "assessments": (1, 1), "recommendations": (0, 1)},
}
ONE_SENTENCE = r'([^".\\\x00-\x1f]|[.][0-9]|[.][A-Z][.])+[.]'
"""One sentence, as a pattern for servers that constrain output: no quote, backslash or control
character (so no line breaks), and a full stop only inside a figure ("51.9"), between the
letters of an abbreviation ("U.S.") or at the end — so a small model cannot run on into a
second sentence or a copy of the prompt. (Measured: with stops only in figures, a model that
meant "U.S." wrote "U.5."; with a stop allowed before any capital, it ran on "….The …" until
its token bound.)"""
ESTIMATIVE_OPENINGS = (
    "It is almost certain that", "It is very likely that", "It is likely that",
    "It is unlikely that", "It is very unlikely that", "This is likely to", "This is unlikely to",
)  # fmt: skip
"""How an assessment may begin when the server constrains output to the schema (a pattern):
a small model then cannot write a judgement without its estimative word."""
KINDS = {"sentences": "fact", "flashpoints": "fact", "recommendations": "fact", "assessments": "assessment"}
"""What each list of an answer holds: facts (and recommendations, which judge no likelihood) or
assessments."""
MILITARY_HEADINGS = {"defense": "Defense", "security": "Internal and public security"}
SECTIONS = {
    "executive_summary": "Executive summary",
    "developments": "Key developments",
    "geopolitical": "Geopolitical section",
    "military": "Military section",
    "outlook": "Outlook",
}
RECITABLE = ("numbers not in its sources", "dates not in its sources", "names not in its sources")
"""The failures a wrong citation explains, and so the only ones a moved citation may mend."""
RECITE_OVERLAP = 0.8
"""The share of a sentence's longer words another shown item must hold for the citation to move."""
CACHE_VERSION = 2
"""Part of every cache key: bump when the answer models change meaning."""

_INLINE_CITE = re.compile(
    r"\s*(?:\[(?:items?\s*)?(\d+(?:\s*,\s*\d+)*)\]|\(items?\s+(\d+(?:\s*(?:,|and)\s*\d+)*)\))",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_FENCE_LINE = re.compile(r"^```[a-z]*\s*$", re.MULTILINE)

A = TypeVar("A", bound=BaseModel)


class ResponseCache(Protocol):
    """Where usable answers are kept (the store implements it)."""

    def cached_llm_response(self, key: str) -> str | None: ...

    def cache_llm_response(self, key: str, model: str, prompt: str, response: str) -> None: ...


class Chat(Protocol):
    """What the engine needs of a client (:class:`osint.llm_client.ChatClient`)."""

    model: str

    def parameters(self) -> dict[str, Any]: ...

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        deadline: float | None = None,
        penalty: float | None = None,
    ) -> Completion: ...

    def context_window(self) -> int | None: ...


class StatsSink(Protocol):
    """The run's stats record (``inc_value`` by key, as scrapy's stats collector)."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class PromptSet:
    """The templates of one prompts directory: autoescape off (the output is not HTML),
    StrictUndefined (a missing variable is an error before any model call)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory)),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(self, name: str, **variables: Any) -> str:
        try:
            return self._env.get_template(f"{name}.j2").render(**variables).strip() + "\n"
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"prompt {exc.name} not found in {self.directory}") from None
        except jinja2.TemplateError as exc:
            raise ConfigError(f"prompt {name}.j2: {exc}") from None


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Excerpt:
    """One item as the model sees it: cleaned, bounded, fenced and labelled."""

    id: int
    fenced: str
    withheld: int


def excerpt(item: Item, chars: int = EXCERPT_CHARS) -> Excerpt:
    """The fenced block for ``item``: its title, outlet and up to ``chars`` characters of clean text.

    No publication date: a sentence is checked for days against its items' title and text
    only, so a day the model took from the metadata could never be kept — and a small model
    copied the ISO date into its sentences, then over and over until its token bound (measured).
    """
    clean_title, withheld_title = split_withheld(item.title)
    clean_text, withheld_text = split_withheld(item.text)
    chosen: list[str] = []
    size = 0
    for sentence in quotable_sentences(clean_text):
        if chosen and size + len(sentence) > chars:
            break
        chosen.append(sentence)
        size += len(sentence) + 1
        if len(chosen) >= EXCERPT_SENTENCES:
            break
    body = " ".join(chosen) if chosen else _truncate(fold_space(clean_text), chars)
    fenced = "\n".join(
        [
            f"<<<ITEM {item.id}",
            f"title: {_field(clean_title) or '(withheld)'}",
            f"outlet: {_field(item.source)} (source reliability {item.reliability})",
            f"text: {_field(body) or '(no text)'}",
            f"END ITEM {item.id}>>>",
        ]
    )
    return Excerpt(item.id, fenced, len(withheld_title) + len(withheld_text))


def _field(value: str) -> str:
    return neutralise_fences(fold_space(strip_hidden(value)))


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def written(number: int, facts: Sequence[Sentence]) -> str:
    """The verified facts of a development already written, fenced as evidence for later calls."""
    lines = [f"<<<DEVELOPMENT {number}"]
    for s in facts:
        lines.append(f"- {_field(s.text)} (ITEM {', '.join(str(i) for i in s.item_ids)})")
    lines.append(f"END DEVELOPMENT {number}>>>")
    return "\n".join(lines)


# --------------------------------------------------------------------------- answers


def cache_key(parameters: dict[str, Any], prompt: str, messages: Sequence[ChatMessage]) -> str:
    """A hash of everything that decides the answer: model and parameters, prompt, messages."""
    blob = json.dumps(
        {"v": CACHE_VERSION, "parameters": parameters, "prompt": prompt, "messages": list(messages)},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def parse_answer(text: str, answer_type: type[A]) -> tuple[A | None, str]:
    """The answer as ``answer_type``, or (None, what is wrong with it).

    Lenient about wrapping (code fences, prose around the object), strict about the
    object itself: unknown keys and wrong types are refused.
    """
    body = _FENCE_LINE.sub("", text).strip()
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None, "invalid JSON"
    try:
        data = json.loads(body[start : end + 1])
    except ValueError:
        return None, "invalid JSON"
    try:
        return answer_type.model_validate(data), ""
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}" for err in exc.errors()[:5]
        )
        return None, f"JSON not in the required format ({where})"


def answer_schema(
    answer_type: type[BaseModel], item_ids: Sequence[int], counts: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    """The JSON schema of ``answer_type`` narrowed to one call.

    References are inlined (not every server resolves ``$ref``); every property is
    required and no other is allowed (OpenAI's strict mode wants both); citations are
    one to three of the ids the prompt shows; each list of sentences holds between the
    bounds in ``counts`` (by property name). String length limits are left out: servers
    turn them into very large grammars, and ``max_tokens`` bounds the answer anyway.
    """
    raw = answer_type.model_json_schema()
    defs = raw.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
        out = {}
        for k, v in node.items():
            if k == "properties":  # names of properties, not schema keywords
                out[k] = {name: inline(prop) for name, prop in v.items()}
            elif k not in ("$defs", "title", "default", "description", "maxLength", "minLength"):
                out[k] = inline(v)
        return out

    schema: dict[str, Any] = inline(raw)

    def narrow(node: dict[str, Any]) -> None:
        props = node.get("properties", {})
        node["required"] = list(props)
        node["additionalProperties"] = False
        for name, prop in props.items():
            if name == "citations":
                prop["items"] = {"type": "integer", "enum": sorted(set(item_ids))}
                prop["minItems"], prop["maxItems"] = 1, min(3, max(1, len(set(item_ids))))
            elif prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                if name in counts:
                    prop["minItems"], prop["maxItems"] = counts[name]
                if prop["items"].get("type") == "object":
                    narrow(prop["items"])
                if name in KINDS:
                    opening = f"({'|'.join(ESTIMATIVE_OPENINGS)}) " if name == "assessments" else "[A-Z]"
                    prop["items"]["properties"]["text"]["pattern"] = f"^{opening}{ONE_SENTENCE}$"
            elif name == "title":
                prop["pattern"] = '^[A-Z][^".\\\\]+$'

    narrow(schema)
    return schema


def clean_text(text: str) -> tuple[str, list[int]]:
    """A model's sentence without inline citation marks or bullets, and the ids it marked inline."""
    ids: list[int] = []

    def take(m: re.Match[str]) -> str:
        ids.extend(int(n) for n in re.findall(r"\d+", m.group(1) or m.group(2)))
        return ""

    text = _INLINE_CITE.sub(take, text)
    text = _BULLET.sub("", fold_space(text))
    text = re.sub(r"\s+([.,;:!?])", r"\1", text).strip()
    return text, ids


# --------------------------------------------------------------------------- one call


@dataclass
class Part:
    """One call: a small piece of one section, its prompt, answer shape and fallback."""

    section: str
    label: str
    prompt: str
    answer_type: type[BaseModel]
    variables: dict[str, Any]
    item_ids: list[int]
    """The ids the prompt shows: the only ones the answer may cite."""
    key: str = ""
    """Which piece of the section (a story id, a heading key)."""
    facts: list[Sentence] = field(default_factory=list)
    """The written developments' facts the prompt shows (a later part's evidence)."""


@dataclass
class Outcome:
    """What a part came to: the verified answer, or why it fell back."""

    part: Part
    answer: BaseModel | None = None
    facts: dict[str, list[Sentence]] = field(default_factory=dict)
    """Verified sentences by answer field (``sentences``, ``assessments``, ``flashpoints`` …)."""
    proposed: dict[str, list[Sentence]] = field(default_factory=dict)
    """Every sentence of the answer by field, as the draft carries them: the report's own
    verification drops the same ones again and counts them in its coverage."""
    title: Sentence | None = None
    problem: str | None = None
    repeats: list[str] = field(default_factory=list)
    """Why sentences that only said something again were left out (see ``LLMEngine._new``)."""


@dataclass
class LLMStats:
    """What the engine did for one report (also written to the run's stats record)."""

    requests: int = 0
    """Answers received from the endpoint (retries of a part included; cache hits not)."""
    cached: int = 0
    parts: int = 0
    parts_from_model: int = 0
    sections_asked: int = 0
    sections_from_model: int = 0
    proposed: int = 0
    """Sentences (and headlines) the model proposed, in every answer it gave."""
    kept: int = 0
    """Of those, the ones that passed verification into the report."""
    assessments: int = 0
    """Kept sentences that are assessments."""
    fallbacks: int = 0
    """Parts written extractively because the model's answer could not be had or used."""
    recited: int = 0
    """Sentences whose citation was moved to the shown item that supports them."""
    chosen: int = 0
    """Later parts whose facts the model chose among the written developments' (:data:`PICK`)."""
    seconds: float = 0.0
    dropped_reasons: list[str] = field(default_factory=list)

    def record(self, sink: StatsSink) -> None:
        keys = ("requests", "cached", "parts", "parts_from_model", "sections_asked", "sections_from_model")
        for key in (*keys, "proposed", "kept", "assessments", "fallbacks", "recited", "chosen"):
            sink.inc_value(f"llm/{key}", getattr(self, key))
        sink.inc_value("llm/dropped", self.proposed - self.kept)


class _Unusable(Exception):
    """A part's answer could not be had or used; the message goes into the report's note."""


class LLMEngine:
    """Sections written by a model, verified like any engine, extractive where it fails."""

    name = "llm"

    def __init__(
        self,
        client: Chat,
        prompts: PromptSet,
        *,
        cache: ResponseCache | None = None,
        attempts: int = ATTEMPTS,
        context: int = 8192,
        budget: float = 1200.0,
        concurrency: int = 1,
        clock: Callable[[], float] = time.monotonic,
        stats: StatsSink | None = None,
    ) -> None:
        self.client = client
        self.prompts = prompts
        self.cache = cache
        self.attempts = attempts
        self.context = context
        self.budget = budget
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.sink = stats
        self.stats = LLMStats()
        self.author = f"llm:{client.model}"
        self._down: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, cache: ResponseCache | None = None, stats: StatsSink | None = None
    ) -> LLMEngine:
        if not settings.llm_base_url:
            raise ConfigError(
                "the llm engine needs OSINT_LLM_BASE_URL, an OpenAI-compatible endpoint "
                "(e.g. http://127.0.0.1:11434/v1 for Ollama)"
            )
        if not settings.llm_model:
            raise ConfigError("the llm engine needs OSINT_LLM_MODEL, the model name the endpoint serves")
        for name, value in (("TIMEOUT", settings.llm_timeout), ("BUDGET", settings.llm_budget)):
            if value <= 0:
                raise ConfigError(f"OSINT_LLM_{name} must be a positive number of seconds")
        if settings.llm_context < 1024:
            raise ConfigError("OSINT_LLM_CONTEXT must be at least 1024 tokens")
        if settings.llm_concurrency < 1:
            raise ConfigError("OSINT_LLM_CONCURRENCY must be 1 or more")
        client = ChatClient(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            limits=ChatLimits(timeout=settings.llm_timeout, context=settings.llm_context),
            user_agent=settings.user_agent,
        )
        return cls(
            client,
            PromptSet(settings.prompts_dir),
            cache=cache,
            context=settings.llm_context,
            budget=settings.llm_budget,
            concurrency=settings.llm_concurrency,
            stats=stats,
        )

    # ------------------------------------------------------------------ compose

    def compose(self, evidence: Evidence) -> Draft:
        ev = self._ev = evidence
        started = self.clock()
        self._deadline = started + self.budget
        self._excerpts: dict[tuple[int, int], Excerpt] = {}
        self._verifier = Verifier(ev)
        self._probe = Verifier(ev)  # for trying citations; its counts are not the report's
        self._window = self._context_window()
        self._spent = 0.0
        self._evidence_facts: dict[str, list[Sentence]] = {}
        """Verified facts of the developments the model wrote, by story: later calls' evidence."""
        self._later = 0
        """Parts still to come after the current stage (for budgeting retries)."""
        base = ExtractiveEngine().compose(ev)
        notes: list[str] = []
        draft = Draft(
            executive=base.executive,
            developments=base.developments,
            geopolitical=base.geopolitical,
            military=base.military,
            outlook=base.outlook,
            model=self.client.model,
        )
        top = ev.stories[:MAX_DEVELOPMENTS]
        dev_parts = [self._development_part(n, s) for n, s in enumerate(top, start=1)]
        # Every prompt is rendered before the first request (the later ones over the extractive
        # developments): a broken template is a configuration error, found before any request.
        self._check_prompts(dev_parts)
        self._later = len(self._later_parts(base.developments))
        outcomes = self._run(dev_parts)
        draft.developments = self._developments(top, outcomes, base, notes)

        later = self._later_parts(draft.developments)
        self._check_prompts(later)
        self._later = 0
        outcomes_later = self._run(later)
        by_section: dict[str, list[Outcome]] = {}
        for o in outcomes_later:
            by_section.setdefault(o.part.section, []).append(o)
        self._executive(by_section.get("executive_summary", []), draft, notes)
        draft.geopolitical = self._blocks(
            "geopolitical", by_section.get("geopolitical", []), base.geopolitical, notes
        )
        draft.military = self._blocks("military", by_section.get("military", []), base.military, notes)
        self._outlook(by_section.get("outlook", []), base, draft, notes)

        withheld = [e for e in self._excerpts.values() if e.withheld]
        if withheld:
            ids = {e.id for e in withheld}
            count = sum(e.withheld for e in {e.id: e for e in withheld}.values())
            notes.append(
                f"LLM engine: {count} passage(s) in {len(ids)} item(s) "
                "read like instructions to a model and were withheld from it"
            )
        st = self.stats
        st.seconds = self.clock() - started
        for section in SECTIONS:
            outs = [o for o in (*outcomes, *outcomes_later) if o.part.section == section]
            if outs:
                st.sections_asked += 1
                st.sections_from_model += all(o.problem is None for o in outs)
        if st.proposed:
            notes.append(
                f"LLM engine ({self.client.model}): {st.sections_from_model} of {st.sections_asked} "
                f"section(s) written by the model; {st.kept} of {st.proposed} sentence(s) it proposed "
                f"were kept after checking against their sources ({st.assessments} assessment(s))"
                + (
                    f"; in {st.chosen} part(s) its own sentences could not be verified and it chose "
                    "facts of the developments instead"
                    if st.chosen
                    else ""
                )
            )
        log.info(
            "LLM engine: %d of %d sections from the model, %d of %d sentences kept, "
            "%d request(s), %d from the cache, %.0f s",
            st.sections_from_model, st.sections_asked, st.kept, st.proposed, st.requests, st.cached,
            st.seconds,
        )  # fmt: skip
        if self.sink is not None:
            st.record(self.sink)
        draft.notes = [*base.notes, *notes]
        return draft

    def _context_window(self) -> int:
        reported = None
        probe = getattr(self.client, "context_window", None)
        if callable(probe):
            try:
                reported = probe()
            except LLMError:
                reported = None
        if isinstance(reported, int) and 0 < reported < self.context:
            log.info("LLM endpoint reports a context of %d tokens; prompts are cut to it", reported)
            return reported
        return self.context

    def _check_prompts(self, parts: list[Part]) -> None:
        for part in parts:
            self._messages(part)

    def _run(self, parts: list[Part]) -> list[Outcome]:
        total = len(parts)
        if self.concurrency == 1 or total <= 1:
            return [self._attempt(p, n, total) for n, p in enumerate(parts, start=1)]
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="llm") as pool:
            futures = [pool.submit(self._attempt, p, n, total) for n, p in enumerate(parts, start=1)]
            return [f.result() for f in futures]

    # ------------------------------------------------------------------ parts

    def _shown(self, story: Story, limit: int = ITEMS_PER_STORY) -> list[int]:
        originals = [i for i in story.item_ids if i not in story.copies and i != story.canonical_id]
        originals.sort(key=lambda i: (self._ev.items[i].published, i))
        return [story.canonical_id, *originals][:limit]

    def _excerpt(self, item_id: int, chars: int) -> Excerpt:
        key = (item_id, chars)
        if key not in self._excerpts:
            self._excerpts[key] = excerpt(self._ev.items[item_id], chars)
        return self._excerpts[key]

    def _common(self) -> dict[str, Any]:
        ev = self._ev
        return {
            "region": ev.profile.name,
            "period_start": ev.start.isoformat(),
            "period_end": ev.end.isoformat(),
        }

    def _fit(self, render: Callable[[int, int], str], answer_tokens: int, many: int) -> str:
        """The largest rendering (``many`` pieces of evidence, excerpts of some length) that
        fits the context with room for the answer."""
        system = len(self.prompts.render("system", **self._common()))
        room = (self._window - answer_tokens - 64) * CHARS_PER_TOKEN - system
        chars = EXCERPT_CHARS
        count = many
        text = render(count, chars)
        while len(text) > room and (count > 1 or chars > 150):
            if chars > 300:
                chars //= 2
            elif count > 1:
                count -= 1
            else:
                chars = max(150, chars // 2)
            text = render(count, chars)
        return text

    def _development_part(self, number: int, story: Story) -> Part:
        ids = self._shown(story)
        part = Part(
            "developments",
            f"development {number}",
            "development",
            LLMDevelopment,
            {
                "story": {
                    "number": number,
                    "buckets": ", ".join(story.buckets) or "none",
                    "status": story.status,
                    "outlets": len(story.outlets),
                }
            },
            ids,
            key=story.id,
        )  # fmt: skip

        def render(count: int, chars: int) -> str:
            part.item_ids = ids[:count]
            return self._render_user(part, items=[self._excerpt(i, chars).fenced for i in ids[:count]])

        part.variables["_user"] = self._fit(render, ANSWER_TOKENS["development"], len(ids))
        return part

    def _later_parts(self, developments: list[Development]) -> list[Part]:
        ev = self._ev
        by_story = {d.story_id: d for d in developments}
        numbered = {d.story_id: n for n, d in enumerate(developments, start=1)}
        parts: list[Part] = []

        def evidence_part(section: str, label: str, prompt: str, stories: list[Story], **extra: Any) -> Part:
            part = Part(
                section, label, prompt, LLMOutlook if prompt == "outlook" else LLMParagraph, extra, []
            )

            def render(count: int, chars: int) -> str:
                blocks: list[str] = []
                ids: list[int] = []
                shown: list[Sentence] = []
                for story in stories[:count]:
                    facts = self._facts_of(by_story.get(story.id))
                    if facts:
                        shown += facts
                        blocks.append(written(numbered[story.id], facts))
                        ids += [i for s in facts for i in s.item_ids]
                    else:
                        for i in self._shown(story, 1):
                            blocks.append(self._excerpt(i, chars).fenced)
                            ids.append(i)
                part.item_ids = list(dict.fromkeys(ids))
                part.facts = shown
                return self._render_user(part, evidence=blocks)

            part.variables["_user"] = self._fit(render, ANSWER_TOKENS[_kind(part)], len(stories))
            return part

        lead = [s for s in ev.stories if s.id in by_story] or ev.stories[:MAX_DEVELOPMENTS]
        if lead:
            parts.append(
                evidence_part(
                    "executive_summary", "executive summary", "executive_summary", lead[:SUMMARY_DEVELOPMENTS]
                )
            )
        anyone = {
            key: TermMatcher((t, key, 1.0) for ts in cp.terms.values() for t in ts)
            for key, cp in ev.profile.counterparts.items()
        }

        def pick(stories: list[Story]) -> list[Story]:
            """The heading's most important developments, and a story beyond them for breadth."""
            developed = [s for s in stories if s.id in by_story][: STORIES_PER_HEADING - 1]
            beyond = [s for s in stories if s.id not in by_story][:1]
            chosen = {s.id for s in (*developed, *beyond)}
            return [s for s in stories if s.id in chosen] or stories[:STORIES_PER_HEADING]

        for key, cp in ev.profile.counterparts.items():
            about = pick(
                [
                    s
                    for s in ev.stories
                    if {"diplomacy", "economy"} & set(s.buckets) and self._names(anyone[key], s)
                ]
            )
            if about:
                parts.append(
                    evidence_part(
                        "geopolitical", f"geopolitical: {cp.label}", "geopolitical", about,
                        heading=cp.label,
                    )
                )  # fmt: skip
                parts[-1].key = key
        for key, label in MILITARY_HEADINGS.items():
            about = pick([s for s in ev.stories if s.buckets and s.buckets[0] == key])
            if about:
                parts.append(
                    evidence_part("military", f"military: {label}", "military", about, heading=label)
                )
                parts[-1].key = key
        security_first = sorted(
            lead or ev.stories, key=lambda s: 0 if {"security", "defense"} & set(s.buckets[:1]) else 1
        )[:OUTLOOK_STORIES]
        if security_first:
            parts.append(evidence_part("outlook", "outlook", "outlook", security_first))
        return parts

    def _facts_of(self, dev: Development | None) -> list[Sentence]:
        """A development's verified facts: the model's (checked when it answered) or the
        extractive engine's (quoted, and so supported)."""
        if dev is None:
            return []
        if dev.story_id in self._evidence_facts:
            return self._evidence_facts[dev.story_id]
        return [s for s in dev.sentences if s.kind == "fact" and s.author is None]

    def _names(self, matcher: TermMatcher, story: Story) -> bool:
        items = [self._ev.items[i] for i in story.item_ids if i not in story.copies][: ITEMS_PER_STORY * 2]
        return any(matcher.find(f"{i.title}\n{i.text}") for i in items)

    def _render_user(self, part: Part, **evidence: Any) -> str:
        variables = {k: v for k, v in part.variables.items() if not k.startswith("_")}
        return self.prompts.render(
            part.prompt, **self._common(), **variables, **evidence, counts=COUNTS[_kind(part)]
        )

    def _messages(self, part: Part) -> list[ChatMessage]:
        return [
            {"role": "system", "content": self.prompts.render("system", **self._common())},
            {"role": "user", "content": part.variables["_user"]},
        ]

    def _schema(self, part: Part, *, shorter: bool = False, pick: bool = False) -> dict[str, Any]:
        counts = COUNTS[_kind(part)]
        if shorter:
            counts = {name: (min(least, 1), min(most, 1)) for name, (least, most) in counts.items()}
        schema = answer_schema(part.answer_type, part.item_ids, counts)
        shown = list(_shown_facts(part))
        if pick and shown:
            for name in PICKED:
                prop = schema["properties"].get(name)
                if prop is not None:
                    prop["items"]["properties"]["text"] = {"type": "string", "enum": shown}
                    prop["minItems"] = min(prop["minItems"], len(shown))
                    prop["maxItems"] = min(prop["maxItems"], len(shown))
        return schema

    # ------------------------------------------------------------------ asking

    def _attempt(self, part: Part, number: int, total: int) -> Outcome:
        with self._lock:
            self.stats.parts += 1
        try:
            outcome = self._ask(part, number, total)
        except _Unusable as exc:
            with self._lock:
                self.stats.fallbacks += 1
            log.info("LLM %d/%d %s: written extractively (%s)", number, total, part.label, exc)
            return Outcome(part, problem=str(exc))
        with self._lock:
            self.stats.parts_from_model += 1
        return outcome

    def _ask(self, part: Part, number: int, total: int) -> Outcome:
        """A verified answer from the cache or the endpoint, else :class:`_Unusable`."""
        messages = self._messages(part)
        schema = self._schema(part)
        tokens = ANSWER_TOKENS[_kind(part)]
        conversation = list(messages)
        penalty: float | None = None
        picking = False
        problem = "no answer"
        tries = 0
        for _ in range(self.attempts):
            tries += 1
            cut = False
            asked = {**self.client.parameters(), "schema": schema}
            if penalty is not None:
                asked["penalty"] = penalty
            key = cache_key(asked, part.prompt, conversation)
            text = self.cache.cached_llm_response(key) if self.cache is not None else None
            source = "cache"
            if text is not None:
                with self._lock:
                    self.stats.cached += 1
            else:
                source = self._ready(part)
                log.debug("LLM %d/%d %s: asked %r", number, total, part.label, conversation[-1]["content"])
                try:
                    done = self.client.complete(
                        conversation,
                        schema=schema,
                        max_tokens=tokens,
                        deadline=self._deadline,
                        penalty=penalty,
                    )
                except LLMUnavailable as exc:
                    if self.clock() >= self._deadline:
                        raise _Unusable(f"the LLM time budget of {self.budget:g} s was spent") from None
                    with self._lock:
                        self._down = str(exc)
                    raise _Unusable(f"endpoint unavailable: {exc}") from None
                except LLMError as exc:
                    problem = str(exc)
                    continue
                text = done.text
                with self._lock:
                    self.stats.requests += 1
                    self._spent += done.seconds
                source = f"{done.seconds:.1f} s" + (
                    f", {done.prompt_tokens}+{done.completion_tokens} tokens"
                    if done.completion_tokens
                    else ""
                )
                if done.finish_reason == "length":
                    cut = True
                    source += f", cut off at {tokens} tokens"
            answer, problem = parse_answer(text, part.answer_type)
            if answer is None:
                log.info("LLM %d/%d %s: unusable answer (%s; %s)", number, total, part.label, problem, source)
                log.debug("LLM %d/%d %s: the answer was %r", number, total, part.label, text[-600:])
                if not self._time_for_another(number, total):
                    break
                if cut:  # the same question would be cut off again: ask for less
                    conversation, schema = self._amended(messages, SHORTER), self._schema(part, shorter=True)
                    penalty = LOOP_PENALTY
                    problem = f"{problem}, cut off at {tokens} tokens"
                else:
                    conversation = self._again(messages, text, problem)
                continue
            outcome, reasons = self._verified(part, answer)
            kept = sum(len(v) for v in outcome.facts.values()) + (outcome.title is not None)
            log.info(
                "LLM %d/%d %s: %d of %d sentence(s) kept (%s)%s",
                number, total, part.label, kept, self._proposed(answer), source,
                "".join(f"; dropped, {r}" for r in reasons[:2]),
            )  # fmt: skip
            if source != "cache" and self.cache is not None:
                self.cache.cache_llm_response(key, self.client.model, part.prompt, answer.model_dump_json())
            if self._usable(part, outcome):
                if picking:
                    with self._lock:
                        self.stats.chosen += 1
                return outcome
            problem = "nothing in the answer could be verified against its sources"
            if not self._time_for_another(number, total):
                break
            if part.facts and not picking:  # let it choose among the facts it was shown
                picking, penalty = True, None
                conversation, schema = self._amended(messages, PICK), self._schema(part, pick=True)
            else:
                conversation = self._again(messages, text, f"{problem}: " + "; ".join(reasons[:4]))
        raise _Unusable(f"{problem} after {tries} {'try' if tries == 1 else 'tries'}")

    def _time_for_another(self, number: int, total: int) -> bool:
        """Whether the budget left allows asking this part again and still reaching the parts
        after it, at the pace the endpoint has kept so far (a second try that would push every
        later part past the budget is worth less than those parts)."""
        with self._lock:
            asked, spent = self.stats.requests, self._spent
        if not asked:
            return True
        pace = spent / asked
        left = self._deadline - self.clock()
        return left > pace * (1 + total - number + self._later)

    def _ready(self, part: Part) -> str:
        """Raise :class:`_Unusable` when no request should be sent for ``part`` any more."""
        with self._lock:
            down = self._down
        if down is not None:
            raise _Unusable(f"endpoint unavailable: {down}")
        if self.clock() >= self._deadline:
            raise _Unusable(f"the LLM time budget of {self.budget:g} s was spent")
        return "endpoint"

    @staticmethod
    def _amended(messages: list[ChatMessage], line: str) -> list[ChatMessage]:
        """The same task with ``line`` added to it (:data:`SHORTER`, :data:`PICK`). The last
        answer is not shown again: it would only lengthen the prompt, and chat templates want
        turns to alternate."""
        *before, task = messages
        return [*before, {"role": task["role"], "content": f"{task['content']}\n{line}\n"}]

    @staticmethod
    def _again(messages: list[ChatMessage], text: str, problem: str) -> list[ChatMessage]:
        return [
            *messages,
            {"role": "assistant", "content": text[:4000]},
            {
                "role": "user",
                "content": f"That answer was not usable: {problem}. Answer again with only the JSON "
                "object in the format the task gives, using only what the items say.",
            },
        ]

    @staticmethod
    def _proposed(answer: BaseModel) -> int:
        count = 1 if isinstance(answer, LLMDevelopment) else 0
        for name in KINDS:
            count += len(getattr(answer, name, []))
        return count

    @staticmethod
    def _usable(part: Part, outcome: Outcome) -> bool:
        if part.prompt == "outlook":
            return bool(outcome.facts.get("flashpoints") or outcome.facts.get("recommendations"))
        return bool(outcome.facts.get("sentences"))

    def _verified(self, part: Part, answer: BaseModel) -> tuple[Outcome, list[str]]:
        """The answer's sentences that pass verification, by field, and why the others did not."""
        outcome = Outcome(part, answer)
        with self._lock:
            before = len(self._verifier.stats.reasons)
            self.stats.proposed += self._proposed(answer)
            if isinstance(answer, LLMDevelopment):
                title, _ = clean_text(answer.title)
                # A headline is about the story: it cites the story's items the prompt showed.
                candidate = Sentence(text=title.rstrip("."), item_ids=part.item_ids, author=self.author)
                outcome.title = self._verifier.check(candidate) if title else None
                self.stats.kept += outcome.title is not None
            for name, kind in KINDS.items():
                if name not in type(answer).model_fields:
                    continue
                proposed: list[LLMSentence] = getattr(answer, name)
                sentences = self._sentences(proposed, kind, part)
                sentences = [self._recited(s, part) for s in self._new(sentences, outcome, part)]
                kept = self._verifier.keep(sentences)
                outcome.proposed[name] = sentences
                outcome.facts[name] = kept
                self.stats.kept += len(kept)
                self.stats.assessments += sum(s.kind == "assessment" for s in kept)
            reasons = [*outcome.repeats, *self._verifier.stats.reasons[before:]]
            self.stats.dropped_reasons.extend(reasons)
        return outcome, reasons

    def _new(self, sentences: list[Sentence], outcome: Outcome, part: Part) -> list[Sentence]:
        """``sentences`` without those that say again what the answer already said, and
        without assessments that only restate a fact (of the answer, or shown to it) behind an
        estimative opening ("It is likely that <the fact>"): a judgement that judges nothing.
        Small models do both; a report should not. Each is dropped with its reason."""
        said = [s for field in outcome.proposed.values() for s in field]
        out: list[Sentence] = []
        for s in sentences:
            facts = [f for f in (*said, *out) if f.kind == "fact"]
            against = [*said, *out] if s.kind == "fact" else [*facts, *part.facts]
            if any(_restates(s.text, other.text) for other in against):
                why = "repeats another sentence" if s.kind == "fact" else "an assessment that restates a fact"
                outcome.repeats.append(f"{why}: {s.text[:120]!r}")
                continue
            out.append(s)
        return out

    def _recited(self, sentence: Sentence, part: Part) -> Sentence:
        """``sentence`` citing the item the prompt showed that supports it, when the model
        cited another one (small models often cite the neighbouring item).

        Only a sentence its own citations do not support is looked at, and only what the
        same prompt showed is tried: each item alone, then the items of each written fact it
        showed (a fact restated from a development cites that fact's items together). The
        sentence still has to pass every check against what it ends up citing; nothing is
        invented for it.
        """
        if self._probe.check(sentence) is not None:
            return sentence
        mendable = all(why in RECITABLE for why, _ in self._probe.last_failures)
        if not mendable or not set(sentence.item_ids) <= set(self._ev.items):
            return sentence  # an invented citation, a link, an echoed injection: never moved
        own = {w for w in words(sentence.text) if len(w) > 3}
        tried = [[i] for i in part.item_ids]
        tried += [f.item_ids for f in part.facts if len(f.item_ids) > 1]
        for ids in dict.fromkeys(tuple(t) for t in tried if t != sentence.item_ids):
            text = "\n".join(f"{self._ev.items[i].title}\n{self._ev.items[i].text}" for i in ids)
            if len(own & words(text)) < RECITE_OVERLAP * len(own):
                continue  # those items are not about what the sentence says
            moved = sentence.model_copy(update={"item_ids": list(ids)})
            if self._probe.check(moved) is not None:
                self.stats.recited += 1
                return moved
        return sentence

    def _sentences(self, answer: Sequence[LLMSentence], kind: str, part: Part) -> list[Sentence]:
        """The answer's sentences as the report's; a fact copied exactly from a written
        development the prompt showed is that fact, with its citations and author (the model
        chose it; it did not write it again), and is taken once — unless the model cited an
        item the prompt did not show (an invented citation is never mended)."""
        shown = _shown_facts(part) if kind == "fact" else {}
        out: list[Sentence] = []
        for s in answer:
            text, inline = clean_text(s.text)
            copied = shown.get(fold_space(s.text)) or shown.get(text)
            if copied is not None and set(s.citations) | set(inline) <= set(part.item_ids):
                if copied not in out:
                    out.append(copied)
            elif text:
                out.append(
                    Sentence(
                        text=text,
                        item_ids=list(dict.fromkeys([*s.citations, *inline])),
                        kind="assessment" if kind == "assessment" else "fact",
                        author=self.author,
                    )
                )
        return out

    # ------------------------------------------------------------------ sections

    def _developments(
        self, stories: list[Story], outcomes: list[Outcome], base: Draft, notes: list[str]
    ) -> list[Development]:
        fallback = {d.story_id: d for d in base.developments}
        out: list[Development] = []
        problems: list[str] = []
        for story, o in zip(stories, outcomes, strict=True):
            if o.problem is None:
                self._evidence_facts[story.id] = o.facts["sentences"]
                old = fallback.get(story.id)
                title = o.title or (old.title if old else None)
                if title is not None:
                    out.append(
                        Development(
                            title=title,
                            sentences=[*o.proposed["sentences"], *o.proposed["assessments"]],
                            buckets=story.buckets,
                            item_ids=story.item_ids,
                            story_id=story.id,
                            score=story.score,
                            status=story.status,
                            previous=story.previous,
                        )
                    )
                    continue
            problems.append(o.problem or "no headline")
            if story.id in fallback:
                out.append(fallback[story.id])
        if problems:
            notes.append(
                f"{SECTIONS['developments']}: {len(problems)} of {len(stories)} written extractively "
                f"({_summary(problems)}); extractive fallback used"
            )
        return out

    def _executive(self, outcomes: list[Outcome], draft: Draft, notes: list[str]) -> None:
        for o in outcomes:
            if o.problem is not None:
                notes.append(_fallback_note("executive_summary", o.problem))
            else:
                # What the extractive engine computed from the store (counts, links to earlier
                # weeks) is no model's to write: it stays, after the model's sentences.
                computed = [s for s in draft.executive if s.kind == "computed"]
                draft.executive = [*o.proposed["sentences"], *o.proposed["assessments"], *computed]

    def _blocks(
        self, section: str, outcomes: list[Outcome], base: list[SectionBlock], notes: list[str]
    ) -> list[SectionBlock]:
        ev = self._ev
        labels = (
            {k: cp.label for k, cp in ev.profile.counterparts.items()}
            if section == "geopolitical"
            else MILITARY_HEADINGS
        )
        extractive = {b.heading: b for b in base}
        answered = {o.part.key: o for o in outcomes}
        blocks: list[SectionBlock] = []
        problems: list[str] = []
        for key, label in labels.items():
            o = answered.get(key)
            if o is None:
                blocks.append(SectionBlock(heading=label, sentences=[], empty_note=NO_REPORTING))
            elif o.problem is None:
                blocks.append(
                    SectionBlock(
                        heading=label, sentences=[*o.proposed["sentences"], *o.proposed["assessments"]]
                    )
                )
            else:
                problems.append(o.problem)
                blocks.append(
                    extractive.get(label)
                    or SectionBlock(heading=label, sentences=[], empty_note=NO_REPORTING)
                )
        if problems:
            notes.append(
                f"{SECTIONS[section]}: {len(problems)} of {len(outcomes)} heading(s) written extractively "
                f"({_summary(problems)}); extractive fallback used"
            )
        return blocks

    def _outlook(self, outcomes: list[Outcome], base: Draft, draft: Draft, notes: list[str]) -> None:
        for o in outcomes:
            if o.problem is not None:
                notes.append(_fallback_note("outlook", o.problem))
                continue
            draft.outlook = Outlook(
                calendar=base.outlook.calendar,
                flashpoints=[*o.proposed["flashpoints"], *o.proposed["assessments"]],
                indicators=base.outlook.indicators,
                previous_indicators=base.outlook.previous_indicators,
                recommendations=o.proposed["recommendations"],
            )


REPEAT_OVERLAP = 0.8
"""The share of a sentence's longer words another sentence must hold for it to say nothing new."""
_OPENING_WORDS = frozenset(w for opening in ESTIMATIVE_OPENINGS for w in words(opening))


def _restates(text: str, other: str) -> bool:
    """Whether ``text`` says nothing that ``other`` does not (its estimative opening aside)."""
    own = {w for w in words(text) if len(w) > 3} - _OPENING_WORDS
    return len(own) >= 3 and len(own & words(other)) >= REPEAT_OVERLAP * len(own)


PICKED = ("sentences", "flashpoints")
"""The lists of facts a later part may be asked to choose from the written developments."""


def _shown_facts(part: Part) -> dict[str, Sentence]:
    """The written facts a later part's prompt shows, by their text as shown."""
    return {_field(f.text): f for f in part.facts}


def _kind(part: Part) -> str:
    """Which family of prompt a part is (the geopolitical and military headings are alike)."""
    return "heading" if part.prompt in ("geopolitical", "military") else part.prompt


def _fallback_note(section: str, problem: str) -> str:
    return f"{SECTIONS[section]}: LLM answer unusable ({problem}); extractive fallback used"


def _summary(problems: list[str]) -> str:
    counts: dict[str, int] = {}
    for p in problems:
        counts[p] = counts.get(p, 0) + 1
    return "; ".join(p if n == 1 else f"{p} ×{n}" for p, n in counts.items())
