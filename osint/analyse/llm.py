"""The LLM engine: each section written by a model on an OpenAI-compatible endpoint.

The model sees the period's top stories as numbered, fenced items (title, outlet,
date and a bounded excerpt of clean sentences) and answers JSON of the shapes in
:mod:`osint.models` (``LLMSentences`` ...): sentences that cite item ids. It never
sees a URL, has no tools, and nothing it writes is fetched or rendered as markup.
What it writes goes through the same verification as the extractive engine, so an
invented figure, name, date or citation costs the sentence.

Untrusted text stays data (:mod:`osint.analyse.untrusted`): hidden characters are
removed, fence-like sequences neutralised, sentences that read like instructions to a
model are withheld from it, and the system prompt says quoted material is never an
instruction.

Failures degrade, never abort: an answer that is not valid JSON of the right shape is
asked for again (``attempts`` in all), then the section falls back to the extractive
engine with a note in the report; a timeout, 429 or 5xx that outlasts the client's
retries does the same, and the remaining sections fall back without asking. Usable
answers are cached in the store by (model and parameters, prompt name, rendered
prompt), so re-running a week costs no request. Prompts are Jinja2 templates in
``prompts/`` (see its README), rendered with autoescape off and StrictUndefined.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import jinja2
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, LLMError
from ..llm_client import ChatClient, ChatLimits, ChatMessage, LLMUnavailable
from ..models import (
    Development,
    Item,
    LLMBlocks,
    LLMDevelopments,
    LLMOutlook,
    LLMSentence,
    LLMSentences,
    Outlook,
    SectionBlock,
    Sentence,
    Story,
)
from ..settings import Settings
from ..stats import Stats
from .base import Draft, Evidence
from .extractive import MAX_DEVELOPMENTS, NO_REPORTING, ExtractiveEngine
from .sentences import quotable_sentences
from .untrusted import neutralise_fences, split_withheld, strip_hidden

log = logging.getLogger(__name__)

ATTEMPTS = 3
"""Tries per section before it falls back (the first ask and two corrections)."""
EXCERPT_CHARS = 700
EXCERPT_SENTENCES = 5
ITEMS_PER_STORY = 3
SECTION_STORIES = 8
EXECUTIVE_STORIES = 6
EXECUTIVE_SENTENCES = (4, 6)
PARAGRAPH_SENTENCES = (2, 4)
BLOCK_SENTENCES = 4
FLASHPOINTS = 5
RECOMMENDATIONS = 4
MILITARY_HEADINGS = {"defense": "Defense", "security": "Internal and public security"}
LABELS = {
    "executive_summary": "Executive summary",
    "developments": "Key developments",
    "geopolitical": "Geopolitical section",
    "military": "Military section",
    "outlook": "Outlook",
}
CACHE_VERSION = 1
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

    def complete(self, messages: Sequence[ChatMessage]) -> str: ...


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


@dataclass(frozen=True)
class StoryRef:
    """A story as a prompt shows it: a local number and the ids of its shown items."""

    number: int
    story: Story
    item_ids: list[int]

    @property
    def buckets(self) -> str:
        return ", ".join(self.story.buckets) or "none"

    @property
    def status(self) -> str:
        return self.story.status

    @property
    def outlets(self) -> int:
        return len(self.story.outlets)

    @property
    def items(self) -> str:
        return ", ".join(str(i) for i in self.item_ids)


@dataclass(frozen=True)
class Excerpt:
    """One item as the model sees it: cleaned, bounded, fenced and labelled."""

    id: int
    fenced: str
    withheld: int


def excerpt(item: Item, zone: ZoneInfo | None = None) -> Excerpt:
    """The fenced block for ``item``: metadata and up to :data:`EXCERPT_CHARS` of clean text."""
    clean_title, withheld_title = split_withheld(item.title)
    clean_text, withheld_text = split_withheld(item.text)
    chosen: list[str] = []
    size = 0
    for sentence in quotable_sentences(clean_text):
        if chosen and size + len(sentence) > EXCERPT_CHARS:
            break
        chosen.append(sentence)
        size += len(sentence) + 1
        if len(chosen) >= EXCERPT_SENTENCES:
            break
    body = " ".join(chosen) if chosen else _truncate(" ".join(clean_text.split()), EXCERPT_CHARS)
    published = item.published.astimezone(zone) if zone else item.published

    def field(value: str) -> str:
        return neutralise_fences(" ".join(strip_hidden(value).split()))

    fenced = "\n".join(
        [
            f"<<<ITEM {item.id}",
            f"title: {field(clean_title) or '(withheld)'}",
            f"outlet: {field(item.source)} (source reliability {item.reliability})",
            f"published: {published.date().isoformat()}",
            f"text: {field(body) or '(no text)'}",
            f"END ITEM {item.id}>>>",
        ]
    )
    return Excerpt(item.id, fenced, len(withheld_title) + len(withheld_text))


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


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


def clean_text(text: str) -> tuple[str, list[int]]:
    """A model's sentence without inline citation marks or bullets, and the ids it marked inline."""
    ids: list[int] = []

    def take(m: re.Match[str]) -> str:
        ids.extend(int(n) for n in re.findall(r"\d+", m.group(1) or m.group(2)))
        return ""

    text = _INLINE_CITE.sub(take, text)
    text = _BULLET.sub("", " ".join(text.split()))
    text = re.sub(r"\s+([.,;:!?])", r"\1", text).strip()
    return text, ids


class _Unusable(Exception):
    """A section's answer could not be had or used; the message goes into the report's note."""


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
        stats: Stats | None = None,
    ) -> None:
        self.client = client
        self.prompts = prompts
        self.cache = cache
        self.attempts = attempts
        self.stats = stats or Stats()
        """The run's stats record: ``llm/asked`` and ``llm/cached`` sections are counted in it."""
        self.asked = 0
        """Sections answered by the endpoint in this engine's life (not from the cache)."""
        self.cached = 0
        self._down: str | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, cache: ResponseCache | None = None, stats: Stats | None = None
    ) -> LLMEngine:
        if not settings.llm_base_url:
            raise ConfigError(
                "the llm engine needs OSINT_LLM_BASE_URL, an OpenAI-compatible endpoint "
                "(e.g. http://127.0.0.1:11434/v1 for Ollama)"
            )
        if not settings.llm_model:
            raise ConfigError("the llm engine needs OSINT_LLM_MODEL, the model name the endpoint serves")
        client = ChatClient(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            limits=ChatLimits(timeout=settings.llm_timeout, deadline=max(300.0, 2.5 * settings.llm_timeout)),
            user_agent=settings.user_agent,
        )
        return cls(client, PromptSet(settings.prompts_dir), cache=cache, stats=stats)

    # ------------------------------------------------------------------ compose

    def compose(self, evidence: Evidence) -> Draft:
        ev = evidence
        base = ExtractiveEngine().compose(ev)
        self._excerpts: dict[int, Excerpt] = {}
        self._ev = ev
        notes: list[str] = []
        stories = ev.stories
        security_first = sorted(
            stories, key=lambda s: 0 if {"security", "defense"} & set(s.buckets[:1]) else 1
        )
        plans: dict[str, tuple[list[StoryRef], dict[str, Any]]] = {
            "executive_summary": (
                self._refs(stories, EXECUTIVE_STORIES),
                {"min_sentences": EXECUTIVE_SENTENCES[0], "max_sentences": EXECUTIVE_SENTENCES[1]},
            ),
            "developments": (
                self._refs(stories, MAX_DEVELOPMENTS),
                {"min_sentences": PARAGRAPH_SENTENCES[0], "max_sentences": PARAGRAPH_SENTENCES[1]},
            ),
            "geopolitical": (
                self._refs([s for s in stories if {"diplomacy", "economy"} & set(s.buckets)]),
                {"headings": self._geo_headings(), "max_sentences": BLOCK_SENTENCES},
            ),
            "military": (
                self._refs([s for s in stories if s.buckets and s.buckets[0] in MILITARY_HEADINGS]),
                {
                    "headings": [{"key": k, "label": v} for k, v in MILITARY_HEADINGS.items()],
                    "max_sentences": BLOCK_SENTENCES,
                },
            ),
            "outlook": (
                self._refs(security_first),
                {"max_flashpoints": FLASHPOINTS, "max_recommendations": RECOMMENDATIONS},
            ),
        }
        # Every prompt is rendered before the first request: a broken template is a
        # configuration error, found before any request is spent.
        messages = {name: self._messages(name, refs, extra) for name, (refs, extra) in plans.items()}

        draft = Draft(
            executive=base.executive,
            developments=base.developments,
            geopolitical=base.geopolitical,
            military=base.military,
            outlook=base.outlook,
            model=self.client.model,
        )
        for name, (refs, _) in plans.items():
            if not refs:
                continue  # nothing to write about: the extractive "no reporting" stands
            try:
                self._write(name, refs, messages[name], draft, base, notes)
            except _Unusable as exc:
                notes.append(f"{LABELS[name]}: LLM answer unusable ({exc}); extractive fallback used")
        withheld = [e for e in self._excerpts.values() if e.withheld]
        if withheld:
            notes.append(
                f"LLM engine: {sum(e.withheld for e in withheld)} passage(s) in {len(withheld)} item(s) "
                "read like instructions to a model and were withheld from it"
            )
        log.info("LLM engine: %d section(s) asked, %d from the cache", self.asked, self.cached)
        draft.notes = [*base.notes, *notes]
        return draft

    def _refs(self, stories: Sequence[Story], limit: int = SECTION_STORIES) -> list[StoryRef]:
        refs = []
        for number, story in enumerate(stories[:limit], start=1):
            originals = [i for i in story.item_ids if i not in story.copies and i != story.canonical_id]
            originals.sort(key=lambda i: (self._ev.items[i].published, i))
            shown = [story.canonical_id, *originals][:ITEMS_PER_STORY]
            refs.append(StoryRef(number, story, shown))
        return refs

    def _geo_headings(self) -> list[dict[str, str]]:
        return [{"key": k, "label": cp.label} for k, cp in self._ev.profile.counterparts.items()]

    def _excerpt(self, item_id: int) -> Excerpt:
        if item_id not in self._excerpts:
            self._excerpts[item_id] = excerpt(self._ev.items[item_id], self._ev.zone)
        return self._excerpts[item_id]

    def _messages(self, name: str, refs: list[StoryRef], extra: dict[str, Any]) -> list[ChatMessage]:
        ev = self._ev
        common = {
            "region": ev.profile.name,
            "period_start": ev.start.isoformat(),
            "period_end": ev.end.isoformat(),
        }
        ids = sorted({i for r in refs for i in r.item_ids})
        user = self.prompts.render(
            name, stories=refs, items=[self._excerpt(i) for i in ids], **common, **extra
        )
        return [
            {"role": "system", "content": self.prompts.render("system", **common)},
            {"role": "user", "content": user},
        ]

    # ------------------------------------------------------------------ asking

    def _ask(self, name: str, messages: list[ChatMessage], answer_type: type[A]) -> A:
        """A valid answer from the cache or the endpoint, else :class:`_Unusable`."""
        key = cache_key(self.client.parameters(), name, messages)
        if self.cache is not None:
            hit = self.cache.cached_llm_response(key)
            if hit is not None:
                answer, _ = parse_answer(hit, answer_type)
                if answer is not None:
                    self.cached += 1
                    self.stats.inc_value("llm/cached")
                    return answer
        if self._down is not None:
            raise _Unusable(f"endpoint unavailable: {self._down}")
        conversation = list(messages)
        problem = "no answer"
        for attempt in range(1, self.attempts + 1):
            try:
                text = self.client.complete(conversation)
            except LLMUnavailable as exc:
                self._down = str(exc)
                raise _Unusable(f"endpoint unavailable: {exc}") from None
            except LLMError as exc:
                problem = str(exc)
                continue
            answer, problem = parse_answer(text, answer_type)
            if answer is not None:
                self.asked += 1
                self.stats.inc_value("llm/asked")
                if self.cache is not None:
                    self.cache.cache_llm_response(
                        key, self.client.model, name, answer.model_dump_json(exclude_defaults=False)
                    )
                return answer
            log.warning("%s: unusable answer %d (%s)", LABELS[name], attempt, problem)
            conversation = [
                *messages,
                {"role": "assistant", "content": text[:4000]},
                {
                    "role": "user",
                    "content": f"That answer was not usable: {problem}. Answer again with only the "
                    "JSON object in the format the task gives, and nothing else.",
                },
            ]
        short = "invalid JSON" if problem == "invalid JSON" else problem
        raise _Unusable(f"{short} after {self.attempts} tries")

    # ------------------------------------------------------------------ sections

    def _write(
        self,
        name: str,
        refs: list[StoryRef],
        messages: list[ChatMessage],
        draft: Draft,
        base: Draft,
        notes: list[str],
    ) -> None:
        if name == "executive_summary":
            answer = self._ask(name, messages, LLMSentences)
            draft.executive = _nonempty(self._sentences(answer.sentences, EXECUTIVE_SENTENCES[1]))
        elif name == "developments":
            draft.developments = self._developments(
                self._ask(name, messages, LLMDevelopments), refs, base, notes
            )
        elif name == "geopolitical":
            draft.geopolitical = self._blocks(
                self._ask(name, messages, LLMBlocks),
                {h["key"]: h["label"] for h in self._geo_headings()},
            )
        elif name == "military":
            draft.military = self._blocks(self._ask(name, messages, LLMBlocks), MILITARY_HEADINGS)
        elif name == "outlook":
            answer_o = self._ask(name, messages, LLMOutlook)
            flashpoints = self._sentences(answer_o.flashpoints, FLASHPOINTS)
            recommendations = self._sentences(answer_o.recommendations, RECOMMENDATIONS)
            _nonempty([*flashpoints, *recommendations])
            draft.outlook = Outlook(
                calendar=base.outlook.calendar,
                flashpoints=flashpoints,
                indicators=base.outlook.indicators,
                recommendations=recommendations,
            )

    @staticmethod
    def _sentences(answer: Sequence[LLMSentence], limit: int) -> list[Sentence]:
        out = []
        for s in answer:
            text, inline = clean_text(s.text)
            if text:
                out.append(Sentence(text=text, item_ids=list(dict.fromkeys([*s.citations, *inline]))))
            if len(out) >= limit:
                break
        return out

    def _developments(
        self, answer: LLMDevelopments, refs: list[StoryRef], base: Draft, notes: list[str]
    ) -> list[Development]:
        by_number = {r.number: r for r in refs}
        written: dict[int, Development] = {}
        unknown = 0
        for dev in answer.developments:
            ref = by_number.get(dev.story)
            if ref is None:
                unknown += 1
                continue
            if dev.story in written:
                continue
            sentences = self._sentences(dev.sentences, PARAGRAPH_SENTENCES[1])
            title, _ = clean_text(dev.title)
            if not sentences or not title:
                continue
            story = ref.story
            cited = [i for s in sentences for i in s.item_ids if i in story.item_ids]
            written[dev.story] = Development(
                title=Sentence(text=title, item_ids=list(dict.fromkeys(cited)) or ref.item_ids),
                sentences=sentences,
                buckets=story.buckets,
                item_ids=story.item_ids,
                story_id=story.id,
                score=story.score,
                status=story.status,
            )
        if not written:
            raise _Unusable("no development written for a story of the prompt")
        fallback = {d.story_id: d for d in base.developments}
        out: list[Development] = []
        missing = 0
        for ref in refs:
            if ref.number in written:
                out.append(written[ref.number])
            elif ref.story.id in fallback:
                missing += 1
                out.append(fallback[ref.story.id])
        if missing:
            notes.append(
                f"{LABELS['developments']}: the model left out {missing} of {len(refs)} stories; "
                "their extractive versions are used"
            )
        if unknown:
            notes.append(
                f"{LABELS['developments']}: {unknown} entry(ies) named a story the prompt did not have"
            )
        return out

    def _blocks(self, answer: LLMBlocks, headings: dict[str, str]) -> list[SectionBlock]:
        sentences: dict[str, list[Sentence]] = {}
        for block in answer.blocks:
            if block.key in headings and block.key not in sentences:
                sentences[block.key] = self._sentences(block.sentences, BLOCK_SENTENCES)
        _nonempty([s for ss in sentences.values() for s in ss])
        return [
            SectionBlock(
                heading=label,
                sentences=sentences.get(key, []),
                empty_note=None if sentences.get(key) else NO_REPORTING,
            )
            for key, label in headings.items()
        ]


def _nonempty(sentences: list[Sentence]) -> list[Sentence]:
    if not sentences:
        raise _Unusable("the answer had no sentences")
    return sentences
