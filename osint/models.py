"""Every data model of the pipeline, in one place.

Configuration models forbid unknown keys so a typo in ``feeds.yaml`` or a country
profile is an error at load time rather than a silently ignored setting. Pipeline
models are plain pydantic models passed from stage to stage; no stage defines its own.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    field_validator,
    model_serializer,
    model_validator,
)

Bucket = Literal["security", "economy", "diplomacy", "defense"]
BUCKETS: tuple[Bucket, ...] = ("security", "economy", "diplomacy", "defense")
Reliability = Literal["A", "B", "C", "D", "E", "F"]
SourceStatus = Literal["ok", "failing", "disabled", "new", "removed"]


class _Model(BaseModel):
    """Every model's base: validators are built on first use, not at import, so a command
    (a re-run of ``collect`` with nothing new) pays only for the few models it touches."""

    model_config = ConfigDict(defer_build=True)


class _Config(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- config


class SourceConfig(_Config):
    """One entry of ``feeds.yaml``."""

    name: str = Field(min_length=1)
    url: str
    kind: Literal["feed", "page"] = "feed"
    link_pattern: str | None = None
    language: str = "en"
    reliability: Reliability = "C"
    country: str | None = None
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value


class FeedsFile(_Config):
    """The whole ``feeds.yaml``: the country profile it belongs to and its sources."""

    country: str
    sources: list[SourceConfig]


class DeskConfig(_Config):
    """One desk of ``desks.yaml``: a country's report, from its own sources, to its own readers."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    feeds: str
    """Its sources file (relative to the desks file); that file names the country profile."""
    profile: str | None = None
    """A country profile to use instead of the one the feeds file names (relative path)."""
    out: str
    """Where its reports, ``index.html`` and ``feed.xml`` go (relative to the desks file)."""
    timezone: str | None = None
    """The zone of its report periods; by default the profile's ``timezone``."""
    mail_to: list[str] | None = None
    """Its recipients; by default OSINT_MAIL_TO."""
    schedule: str | None = None
    """Its cron line, for an operator's crontab (``osint run --desk NAME``); by default OSINT_SCHEDULE."""


class DesksFile(_Config):
    """``desks.yaml``: the desks one installation runs, over one store."""

    desks: list[DeskConfig] = Field(min_length=1)


Terms = dict[str, list[str]]
"""Language code -> list of terms (a trailing ``*`` is a prefix match)."""

WeightedTerms = dict[str, dict[str, float]]
"""Language code -> term -> weight."""


class BucketSpec(_Config):
    label: str
    description: str = ""
    terms: WeightedTerms
    negative: WeightedTerms = Field(default_factory=dict)


class Counterpart(_Config):
    label: str
    terms: Terms


class CountryProfile(_Config):
    """A country: its names, entities and bucket taxonomy (``countries/<slug>.yaml``)."""

    code: str
    name: str
    slug: str
    report_title: str
    timezone: str = "UTC"
    as_of: date | None = None
    omitted: str = ""
    names: Terms
    places: Terms = Field(default_factory=dict)
    people: Terms = Field(default_factory=dict)
    institutions: Terms = Field(default_factory=dict)
    ambiguous: Terms = Field(default_factory=dict)
    counterparts: dict[str, Counterpart] = Field(default_factory=dict)
    concepts: dict[str, Terms] = Field(default_factory=dict)
    """This country's people, places and bodies by key (who and where), named in every
    script: the anchors that let story clustering join reports of one event across
    languages."""
    topics: dict[str, Terms] = Field(default_factory=dict)
    """What an event is about (fuel, a budget, a railway, a flood) by key, in every script:
    shared through ``taxonomy_from``, since they are no country's own."""
    events: dict[str, Terms] = Field(default_factory=dict)
    """Kinds of event (visit, agreement, reaction, protest) by the words that announce them:
    a headline's first kind keeps a visit apart from the agreement signed during it."""
    taxonomy_from: str | None = None
    """Another profile (relative path) whose taxonomy this one shares; ``taxonomy`` then
    holds only this country's additions and overrides, merged at load time."""
    taxonomy: dict[Bucket, BucketSpec]
    outside: WeightedTerms = Field(default_factory=dict)
    """Vocabulary of news outside the four buckets (culture, sport, local election notices...):
    an item whose outside score matches its best bucket's gets no bucket (classify.py)."""


# --------------------------------------------------------------------------- collection


class Entry(_Model):
    """An item as announced by a feed or a listing page, before its page is fetched."""

    source: str
    url: str
    title: str = ""
    summary: str = ""
    published: datetime | None = None
    guid: str | None = None


class FeedDocument(_Model):
    """A whole feed as the normaliser read it: its title, every entry in feed order, and
    what was wrong with it (``problems``: malformed XML, a wrong declared encoding, ...).

    Unlike the collector's entry list, entries here are neither filtered nor deduplicated:
    an entry without a usable http(s) link has ``url == ""``. That keeps the document
    comparable with other parsers' output and lets a caller report a feed that parsed
    only leniently.
    """

    title: str = ""
    link: str | None = None
    entries: list[Entry] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


class Article(_Model):
    """What extraction made of an article page (or of the feed entry when that failed)."""

    url: str
    title: str
    text: str
    canonical_url: str | None = None
    author: str | None = None
    site: str | None = None
    language: str | None = None
    published: datetime | None = None
    extraction: Literal["page", "summary"] = "page"
    note: str | None = None
    # Headline and date signals of the page, weighed against the feed entry (pagemeta.py).
    date_stated: bool = False
    """``published`` is a date the page states (metadata, "Posted: …"), not a guess."""
    headlines: list[tuple[str, str]] = Field(default_factory=list)
    """Headline candidates of the page as (origin, text): og:title, title parts, h1, h2."""
    site_names: list[str] = Field(default_factory=list)
    """Names the site goes by (og:site_name, ...): never a headline."""


class SourceState(_Model):
    """A source's health and conditional-GET state, as stored."""

    name: str
    url: str
    status: SourceStatus = "new"
    last_error: str | None = None
    consecutive_failures: int = 0
    last_success: datetime | None = None
    last_checked: datetime | None = None
    backoff_until: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    configured: bool = True
    """In the feeds file of the last collect; a source since removed keeps its row and items."""
    enabled: bool = True
    reliability: Reliability | None = None
    """The grade in the configuration last recorded (None: never recorded)."""
    country: str | None = None


class SourceResult(_Model):
    """What one source gave in one collect run (the per-source summary line)."""

    name: str
    new_items: int = 0
    seen_items: int = 0
    not_modified: bool = False
    skipped: str | None = None
    error: str | None = None
    item_errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    """Problems that cost nothing yet (a malformed but readable feed, entries without links)."""


# --------------------------------------------------------------------------- stored items


class Classification(_Model):
    relevant: bool
    relevance: float
    buckets: list[Bucket]
    evidence: dict[str, object] = Field(default_factory=dict)


class Item(_Model):
    """A stored article with its provenance; the unit every later stage works on."""

    id: int
    url: str
    source: str
    title: str
    text: str
    summary: str = ""
    published: datetime
    date_estimated: bool = False
    first_seen: datetime
    language: str | None = None
    author: str | None = None
    site: str | None = None
    canonical_url: str | None = None
    extraction: str = "page"
    extraction_note: str | None = None
    reliability: Reliability = "C"
    source_country: str | None = None
    source_language: str | None = None
    source_recorded: bool = False
    """``reliability``, ``source_country`` and ``source_language`` are the source's configuration
    as collected (from the store). ``language`` is what the page said or a detector found for
    this item; ``source_language`` is only what the feeds file declared for the whole source."""
    classification: Classification | None = None
    classified_with: str | None = None
    """Fingerprint of the profile and source country behind ``classification``."""


class Story(_Model):
    """Items about one development; ``copies`` maps a syndicated copy to its original."""

    id: str
    item_ids: list[int]
    canonical_id: int
    copies: dict[int, int] = Field(default_factory=dict)
    outlets: list[str]
    first_seen: datetime
    last_seen: datetime
    buckets: list[Bucket]
    score: float = 0.0
    score_parts: dict[str, float] = Field(default_factory=dict)
    status: Literal["new", "continuing", "escalating"] = "new"
    previous: str | None = None
    """The related story of the weeks before (its lead title and date), when continuing."""
    previous_ids: list[int] = Field(default_factory=list)
    """The items of the weeks before it continues, closest first (empty when new)."""


# --------------------------------------------------------------------------- report
# The report, engine- and format-independent. The same models are what ``report.json``
# is written from and read back into (the archive, the email, the review desk and the
# tests read it with :meth:`Report.from_json`), so the schema exists once. Derived prose
# (``executive_summary``, a development's ``summary``, the sections' joined text, the
# outlets table) is computed from the sentences for readers that want plain text; it is
# written to the JSON and ignored when the JSON is read back.

SCHEMA_VERSION = 3
"""``report.json``'s ``schema_version``; the README says what changed from the one before."""


class _ReportPart(_Model):
    """A part of the report: an unknown key is an error; a derived key read back is dropped."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        derived = cls.model_computed_fields
        if isinstance(data, dict) and derived:
            return {k: v for k, v in data.items() if k not in derived}
        return data


class Sentence(_ReportPart):
    """One statement of the report, the items that support it and their annex numbers.

    Engines fill ``item_ids``; numbering the annex fills ``citations`` from them.
    """

    text: str
    item_ids: list[int] = Field(default_factory=list)
    citations: list[int] = Field(default_factory=list)
    kind: Literal["fact", "assessment", "computed"] = "fact"
    """A fact restates its cited items; an assessment is a judgement resting on them (SPEC §4);
    a computed statement says what the engine counted and linked in the store (outlets per
    development, coverage against the week before), its items bearing it out."""
    author: str | None = None
    """Who wrote an assessment: the engine (``llm:<model>``) or the analyst's user name."""
    language: str | None = None
    """The language of a quoted sentence not in the report's ("Russian"): shown beside it."""

    @property
    def label(self) -> str:
        """How every format marks an assessment (``Assessment (llm:qwen)``) or a computed
        statement (``Computed``); empty for a fact."""
        if self.kind == "computed":
            return "Computed"
        if self.kind != "assessment":
            return ""
        return f"Assessment ({self.author})" if self.author else "Assessment"

    @property
    def language_note(self) -> str:
        """``(in Russian)`` after a sentence quoted in another language; empty otherwise."""
        return f"(in {self.language})" if self.language else ""

    def reworded(self, text: str) -> Sentence:
        """The sentence with an editor's wording: a computed statement reworded is no longer
        the engine's computation but a fact, checked against its sources like any other."""
        kind = "fact" if self.kind == "computed" else self.kind
        return self.model_copy(update={"text": text, "kind": kind})

    def cited_text(self) -> str:
        """The sentence as plain text with its label and citations: ``Assessment (x): Text. [1, 2]``."""
        head = f"{self.label}: " if self.label else ""
        refs = f" [{', '.join(str(n) for n in self.citations)}]" if self.citations else ""
        note = f" {self.language_note}" if self.language else ""
        return f"{head}{self.text}{note}{refs}"


def joined(sentences: list[Sentence]) -> str:
    """Sentences as one paragraph of plain text (derived; nothing parses it back)."""
    return " ".join(s.cited_text() for s in sentences)


class SourceRef(_ReportPart):
    """An item a development cites, as the JSON names it beside the development."""

    citation: int
    url: str
    title: str
    source: str
    published: datetime


class Development(_ReportPart):
    """A key development: its headline, its paragraph and the stories' data behind it.

    In the JSON ``title`` is the headline's text (SPEC §3) and ``headline`` the headline
    as a sentence with its citations.
    """

    title: Sentence
    title_language: str | None = None
    """The headline's language ("Russian") when it is not the report's (no member was): shown."""
    sentences: list[Sentence]
    buckets: list[Bucket]
    item_ids: list[int]
    story_id: str
    score: float
    status: Literal["new", "continuing", "escalating"] = "new"
    previous: str | None = None
    sources: list[SourceRef] = Field(default_factory=list)
    """The cited items in citation order (filled when the annex is numbered)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        return joined(self.sentences)

    @model_serializer(mode="wrap")
    def _headline_as_title(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        headline = data.pop("title")
        return {"title": self.title.text, "headline": headline, **data}

    @model_validator(mode="before")
    @classmethod
    def _title_from_headline(cls, data: object) -> object:
        if isinstance(data, dict) and "headline" in data:
            data = {**data, "title": data["headline"]}
            del data["headline"]
        return data


class SectionBlock(_ReportPart):
    """A titled run of sentences inside a section (e.g. 'China' in the geopolitical part)."""

    heading: str
    sentences: list[Sentence]
    empty_note: str | None = None


class CalendarEvent(_ReportPart):
    when: str
    sort_key: date
    sentence: Sentence


class Outlook(_ReportPart):
    calendar: list[CalendarEvent] = Field(default_factory=list)
    flashpoints: list[Sentence] = Field(default_factory=list)
    indicators: list[str] = Field(default_factory=list)
    """Each ``term: what its count says``."""
    indicators_note: str | None = None
    """What the indicators are when the store holds too little history to tell what is rising."""
    previous_indicators: list[str] = Field(default_factory=list)
    """Last week's rising terms, each with whether this period's items still name them."""
    recommendations: list[Sentence] = Field(default_factory=list)


class Sections(_ReportPart):
    """The analysis sections after the key developments."""

    geopolitical_blocks: list[SectionBlock]
    military_blocks: list[SectionBlock]
    outlook: Outlook

    @computed_field  # type: ignore[prop-decorator]
    @property
    def geopolitical(self) -> str:
        return " ".join(joined(b.sentences) for b in self.geopolitical_blocks).strip()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def military(self) -> str:
        return " ".join(joined(b.sentences) for b in self.military_blocks).strip()


class AnnexEntry(_ReportPart):
    number: int
    item_id: int
    title: str
    url: str
    source: str
    domain: str
    published: datetime
    reliability: Reliability
    bucket: Bucket | None


class FeedCoverage(_ReportPart):
    """A source in the coverage section: its health as of the report and its relevant items."""

    name: str
    url: str
    status: SourceStatus
    last_error: str | None
    items: int
    reliability: Reliability | None = None
    """The grade of its configuration as last collected."""


class Coverage(_ReportPart):
    items: int
    outlets: int
    by_bucket: dict[str, int]
    feeds: list[FeedCoverage]
    considered: int = 0
    irrelevant: int = 0
    stories: int = 0
    sentences_checked: int = 0
    sentences_dropped: int = 0
    dropped_by_reason: dict[str, int] = Field(default_factory=dict)
    """Sentences verification dropped, under each reason they failed (``numbers not in its
    sources``: 2): a sentence with a figure and a name its sources lack counts under both,
    so the counts may add up to more than ``sentences_dropped``."""


class ReportItem(_ReportPart):
    item_id: int
    url: str
    title: str
    source: str
    domain: str
    published: datetime
    buckets: list[Bucket]
    primary_bucket: Bucket | None
    cluster: str
    copy_of: str | None = None
    relevance: float
    evidence: dict[str, object]


class Period(_ReportPart):
    start: date
    end: date


class Review(_ReportPart):
    """Where the report stands in review (SPEC §3); a draft until an editor approves it."""

    status: Literal["draft", "approved"] = "draft"
    approved_by: str | None = None
    approved_at: datetime | None = None
    changes: int = 0
    """How many editorial changes the report carries."""


class OutletCount(_ReportPart):
    name: str
    domain: str
    items: int


class Report(_ReportPart):
    """The whole report; every renderer reads it and ``report.json`` is its JSON."""

    schema_version: int = SCHEMA_VERSION
    title: str
    region: str
    slug: str
    period: Period
    generated_at: datetime
    engine: str
    model: str | None = None
    review: Review = Field(default_factory=Review)
    executive_summary_sentences: list[Sentence]
    developments: list[Development]
    sections: Sections
    annex: list[AnnexEntry]
    items: list[ReportItem]
    coverage: Coverage
    notes: list[str] = Field(default_factory=list)

    @field_validator("schema_version")
    @classmethod
    def _current_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {value} is not {SCHEMA_VERSION}: written by another osint release "
                "(rebuild it from the store with osint report)"
            )
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def executive_summary(self) -> str:
        return joined(self.executive_summary_sentences)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sources(self) -> list[OutletCount]:
        """Outlets by domain with their items of the period, most items first (the annex's table)."""
        counts = Counter((item.source, item.domain) for item in self.items)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [OutletCount(name=name, domain=domain, items=n) for (name, domain), n in ranked]

    def to_json(self) -> str:
        """``report.json``: this report as data, with every sentence's citations."""
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, data: bytes | str) -> Report:
        """A written ``report.json`` read back (derived fields are recomputed, not read)."""
        return cls.model_validate_json(data)


# --------------------------------------------------------------------------- LLM answers
# What the LLM engine accepts from a model: JSON of exactly these shapes (unknown keys are
# refused, so a model that drifts from the format is asked again rather than half-read).
# Each call asks for one small thing (one development, one heading), and the engine sends
# the shape's JSON schema, narrowed to the call (the item ids it may cite, how many
# sentences), so a server that constrains output cannot answer anything else.
# Citations are item ids as the prompt numbered them; verification decides what survives.
# ``sentences`` are facts (what the items say); ``assessments`` are the model's judgements
# resting on them, each with an estimative word (ICD 203: likely, unlikely, ...).


def _item_number(value: object) -> object:
    """``12``, ``"12"``, ``"[12]"`` or ``"ITEM 12"`` -> 12; anything else is left to fail."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*\[?\s*(?:item|story)?\s*(\d+)\s*\]?\s*", value, re.IGNORECASE)
        return int(m.group(1)) if m else value
    return value


class LLMSentence(_Config):
    text: str = Field(min_length=1, max_length=600)
    citations: list[int] = Field(default_factory=list)

    @field_validator("citations", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        """Small models write ``"ITEM 12"`` or a bare ``12``; the meaning is not in doubt."""
        items = value if isinstance(value, list) else [value]
        return [_item_number(v) for v in items]


class LLMParagraph(_Config):
    """The executive summary, or one heading of the geopolitical or military section."""

    sentences: list[LLMSentence]
    assessments: list[LLMSentence] = Field(default_factory=list)


class LLMDevelopment(_Config):
    """One key development: a headline, what happened, and what it likely means."""

    title: str = Field(min_length=1, max_length=300)
    sentences: list[LLMSentence]
    assessments: list[LLMSentence] = Field(default_factory=list)


class LLMOutlook(_Config):
    """Outlook: flashpoints, what is likely in the next months, and grounded recommendations."""

    flashpoints: list[LLMSentence] = Field(default_factory=list)
    assessments: list[LLMSentence] = Field(default_factory=list)
    recommendations: list[LLMSentence] = Field(default_factory=list)


class SendRecord(_Model):
    """One recipient's outcome of one report email (a row of the store's ``sends``)."""

    report: str
    """The report's file stem, ``<slug>-<from>_<to>``: what "the same report" means."""
    period_start: date
    period_end: date
    path: str
    recipient: str
    message_id: str | None
    sent_at: datetime
    status: Literal["sent", "sent-without-pdf", "refused", "failed"]
    error: str | None = None


# --------------------------------------------------------------------------- analysis
# What every analysis engine gets (:class:`Evidence`) and gives back (:class:`Draft`);
# here rather than in ``osint.analyse`` so the editorial stage, which adjusts both, and
# the review desk need no analysis module. Engines cite *item ids*; they never number
# citations or see URLs. Verification and annex numbering happen after them.


@dataclass
class Evidence:
    profile: CountryProfile
    start: date
    end: date
    zone: ZoneInfo
    items: dict[int, Item]
    """Relevant items of the period, copies included, by id."""
    stories: list[Story]
    """Stories of the period, most important first."""
    previous: list[Item] = field(default_factory=list)
    """Relevant items of the weeks before the period (for what is rising)."""
    previous_weeks: int = 4
    previous_report: Report | None = None
    """The report of the period just before (from the archive, or rebuilt from the store):
    what its developments said and which indicators it named, so this period's can say
    what changed."""


@dataclass
class Draft:
    executive: list[Sentence]
    developments: list[Development]
    geopolitical: list[SectionBlock]
    military: list[SectionBlock]
    outlook: Outlook
    notes: list[str] = field(default_factory=list)
    model: str | None = None
