"""Every data model of the pipeline, in one place.

Configuration models forbid unknown keys so a typo in ``feeds.yaml`` or a country
profile is an error at load time rather than a silently ignored setting. Pipeline
models are plain pydantic models passed from stage to stage; no stage defines its own.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Bucket = Literal["security", "economy", "diplomacy", "defense"]
BUCKETS: tuple[Bucket, ...] = ("security", "economy", "diplomacy", "defense")
Reliability = Literal["A", "B", "C", "D", "E", "F"]
SourceStatus = Literal["ok", "failing", "disabled", "new"]


class _Config(BaseModel):
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
    taxonomy_from: str | None = None
    """Another profile (relative path) whose taxonomy this one shares; ``taxonomy`` then
    holds only this country's additions and overrides, merged at load time."""
    taxonomy: dict[Bucket, BucketSpec]
    outside: WeightedTerms = Field(default_factory=dict)
    """Vocabulary of news outside the four buckets (culture, sport, local election notices...):
    an item whose outside score matches its best bucket's gets no bucket (classify.py)."""


# --------------------------------------------------------------------------- collection


class Entry(BaseModel):
    """An item as announced by a feed or a listing page, before its page is fetched."""

    source: str
    url: str
    title: str = ""
    summary: str = ""
    published: datetime | None = None
    guid: str | None = None


class FeedDocument(BaseModel):
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


class Article(BaseModel):
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


class SourceState(BaseModel):
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


class SourceResult(BaseModel):
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


class Classification(BaseModel):
    relevant: bool
    relevance: float
    buckets: list[Bucket]
    evidence: dict[str, object] = Field(default_factory=dict)


class Item(BaseModel):
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
    classification: Classification | None = None
    classified_with: str | None = None
    """Fingerprint of the profile and source country behind ``classification``."""


class Story(BaseModel):
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


# --------------------------------------------------------------------------- report


class Sentence(BaseModel):
    """One statement of the report, the items that support it and their annex numbers.

    Engines fill ``item_ids``; numbering the annex fills ``cites`` from them.
    """

    text: str
    item_ids: list[int]
    cites: list[int] = Field(default_factory=list)
    kind: Literal["fact", "assessment"] = "fact"
    """A fact restates its cited items; an assessment is a judgement resting on them (SPEC §4)."""
    author: str | None = None
    """Who wrote an assessment: the engine (``llm:<model>``) or the analyst's user name."""


class Development(BaseModel):
    title: Sentence
    sentences: list[Sentence]
    buckets: list[Bucket]
    item_ids: list[int]
    story_id: str
    score: float
    status: Literal["new", "continuing", "escalating"] = "new"
    previous: str | None = None


class SectionBlock(BaseModel):
    """A titled run of sentences inside a section (e.g. 'China' in the geopolitical part)."""

    heading: str
    sentences: list[Sentence]
    empty_note: str | None = None


class CalendarEvent(BaseModel):
    when: str
    sort_key: date
    sentence: Sentence


class Outlook(BaseModel):
    calendar: list[CalendarEvent] = Field(default_factory=list)
    flashpoints: list[Sentence] = Field(default_factory=list)
    indicators: list[str] = Field(default_factory=list)
    previous_indicators: list[str] = Field(default_factory=list)
    """Last week's rising terms, each with whether this period's items still name them."""
    recommendations: list[Sentence] = Field(default_factory=list)


class AnnexEntry(BaseModel):
    number: int
    item_id: int
    title: str
    url: str
    source: str
    domain: str
    published: datetime
    reliability: Reliability
    bucket: Bucket | None


class FeedCoverage(BaseModel):
    name: str
    url: str
    status: SourceStatus
    last_error: str | None
    items: int


class Coverage(BaseModel):
    items: int
    outlets: int
    by_bucket: dict[str, int]
    feeds: list[FeedCoverage]
    considered: int = 0
    irrelevant: int = 0
    stories: int = 0
    sentences_checked: int = 0
    sentences_dropped: int = 0


class ReportItem(BaseModel):
    item_id: int
    url: str
    title: str
    source: str
    domain: str
    published: datetime
    buckets: list[Bucket]
    primary: Bucket | None
    cluster: str
    copy_of: str | None = None
    relevance: float
    evidence: dict[str, object]


class Report(BaseModel):
    """The whole report, engine- and format-independent; every renderer reads this."""

    title: str
    region: str
    slug: str
    period_start: date
    period_end: date
    generated_at: datetime
    engine: str
    model: str | None = None
    executive_summary: list[Sentence]
    developments: list[Development]
    geopolitical: list[SectionBlock]
    military: list[SectionBlock]
    outlook: Outlook
    annex: list[AnnexEntry]
    items: list[ReportItem]
    coverage: Coverage
    notes: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- LLM answers
# What the LLM engine accepts from a model: JSON of exactly these shapes (unknown keys are
# refused, so a model that drifts from the format is asked again rather than half-read).
# Citations are item ids as the prompt numbered them; verification decides what survives.


def _item_number(value: object) -> object:
    """``12``, ``"12"``, ``"[12]"`` or ``"ITEM 12"`` -> 12; anything else is left to fail."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*\[?\s*(?:item|story)?\s*(\d+)\s*\]?\s*", value, re.IGNORECASE)
        return int(m.group(1)) if m else value
    return value


class LLMSentence(_Config):
    text: str = Field(min_length=1, max_length=1200)
    citations: list[int] = Field(default_factory=list)

    @field_validator("citations", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        """Small models write ``"ITEM 12"`` or a bare ``12``; the meaning is not in doubt."""
        items = value if isinstance(value, list) else [value]
        return [_item_number(v) for v in items]


class LLMSentences(_Config):
    """Executive summary: ``{"sentences": [{"text": ..., "citations": [12, 15]}]}``."""

    sentences: list[LLMSentence]


class LLMDevelopment(_Config):
    story: int
    title: str = Field(min_length=1, max_length=300)
    sentences: list[LLMSentence]

    @field_validator("story", mode="before")
    @classmethod
    def _story(cls, value: object) -> object:
        return _item_number(value)


class LLMDevelopments(_Config):
    """Key developments: one entry per story the prompt numbered."""

    developments: list[LLMDevelopment]


class LLMBlock(_Config):
    key: str
    sentences: list[LLMSentence]


class LLMBlocks(_Config):
    """Geopolitical and military sections: sentences under the headings the prompt named."""

    blocks: list[LLMBlock]


class LLMOutlook(_Config):
    """Outlook: flashpoints and (only grounded, cited) recommendations."""

    flashpoints: list[LLMSentence] = Field(default_factory=list)
    recommendations: list[LLMSentence] = Field(default_factory=list)


# --------------------------------------------------------------------------- report.json read back
# What delivery and the archive read from a written report: the JSON file is the one
# complete, atomically written record of a report, so ``osint send FILE`` and the archive
# work from the files alone. Unknown keys are ignored (the JSON grows; readers need not).


class _Doc(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DocSentence(_Doc):
    text: str
    citations: list[int] = Field(default_factory=list)


class DocDevelopment(_Doc):
    title: str
    title_citations: list[int] = Field(default_factory=list)
    summary: str = ""
    sentences: list[DocSentence] = Field(default_factory=list)
    buckets: list[str] = Field(default_factory=list)
    status: str = "new"


class DocBlock(_Doc):
    heading: str
    sentences: list[DocSentence] = Field(default_factory=list)
    empty: str | None = None


class DocCalendarEvent(_Doc):
    when: str
    text: str
    citations: list[int] = Field(default_factory=list)


class DocOutlook(_Doc):
    calendar: list[DocCalendarEvent] = Field(default_factory=list)
    flashpoints: str = ""
    indicators: list[str] = Field(default_factory=list)
    recommendations: str = ""


class DocSections(_Doc):
    geopolitical_blocks: list[DocBlock] = Field(default_factory=list)
    military_blocks: list[DocBlock] = Field(default_factory=list)
    outlook: DocOutlook = Field(default_factory=DocOutlook)


class DocAnnexEntry(_Doc):
    number: int
    title: str
    url: str
    source: str
    published: str
    bucket: str | None = None
    reliability: str = "F"


class DocPeriod(_Doc):
    start: date
    end: date


class DocCoverage(_Doc):
    items: int = 0
    outlets: int = 0
    by_bucket: dict[str, int] = Field(default_factory=dict)
    feeds: list[FeedCoverage] = Field(default_factory=list)


class ReportDocument(_Doc):
    """A written ``report.json`` (SPEC §3), as read back by delivery and the archive."""

    schema_version: int
    title: str
    region: str
    period: DocPeriod
    generated_at: datetime
    engine: str
    model: str | None = None
    executive_summary: str = ""
    executive_summary_sentences: list[DocSentence] = Field(default_factory=list)
    developments: list[DocDevelopment] = Field(default_factory=list)
    sections: DocSections = Field(default_factory=DocSections)
    annex: list[DocAnnexEntry] = Field(default_factory=list)
    coverage: DocCoverage = Field(default_factory=DocCoverage)
    notes: list[str] = Field(default_factory=list)


class SendRecord(BaseModel):
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
