"""The analyst's corrections as data: the ops of the editorial layer and an edit as stored.

A model module (like :mod:`osint.models`, for the review desk's record): the editorial
stage applies these ops, the review record stores them and the desk's forms and JSON
API parse them, and none of those needs the others to do so. Every op names items by
their URL (see :mod:`osint.editorial` for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .models import Bucket

Section = Literal["executive_summary", "geopolitical", "military", "outlook"]
SECTIONS: tuple[Section, ...] = ("executive_summary", "geopolitical", "military", "outlook")
SECTION_LABELS = {
    "executive_summary": "Executive Summary",
    "geopolitical": "Geopolitical Impact and Regional Dynamics",
    "military": "Military and Defense Analysis",
    "outlook": "Outlook and Forecast",
}


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Text = Annotated[str, Field(min_length=1, max_length=2000)]
Url = Annotated[str, Field(min_length=1, max_length=2000)]


class ExcludeItem(_Op):
    """Leave one item out of the report (off-topic, wrong country, a duplicate)."""

    op: Literal["exclude_item"] = "exclude_item"
    url: Url
    reason: Text


class ExcludeStory(_Op):
    """Leave out the whole story that holds ``url``."""

    op: Literal["exclude_story"] = "exclude_story"
    url: Url
    reason: Text


class MergeStories(_Op):
    """Fold the story holding ``url`` into the story holding ``into``."""

    op: Literal["merge_stories"] = "merge_stories"
    url: Url
    into: Url


class MoveItem(_Op):
    """Take one item out of its story and put it into the story holding ``to``."""

    op: Literal["move_item"] = "move_item"
    url: Url
    to: Url


class SetBucket(_Op):
    """Make ``bucket`` the primary bucket of the story holding ``url``."""

    op: Literal["set_bucket"] = "set_bucket"
    url: Url
    bucket: Bucket


class RenameDevelopment(_Op):
    """A new headline for the development of the story holding ``url``; it keeps its citations."""

    op: Literal["rename_development"] = "rename_development"
    url: Url
    title: Text
    confirmed: bool = False


class MoveDevelopment(_Op):
    """Put the development of the story holding ``url`` at ``position`` (0 is first)."""

    op: Literal["move_development"] = "move_development"
    url: Url
    position: int = Field(ge=0, le=100)


class PinDevelopment(_Op):
    """Keep the development of the story holding ``url`` at the top, before unpinned ones."""

    op: Literal["pin_development"] = "pin_development"
    url: Url
    pinned: bool = True


class DropDevelopment(_Op):
    """Leave a development out of Key Developments (its items stay in the report's items)."""

    op: Literal["drop_development"] = "drop_development"
    url: Url
    reason: Text


class EditSentence(_Op):
    """Replace the sentence that read ``original`` with ``text``; the citations stay."""

    op: Literal["edit_sentence"] = "edit_sentence"
    original: Text
    text: Text
    confirmed: bool = False


class AddAssessment(_Op):
    """The analyst's own paragraph at the end of ``section``, citing ``urls`` if any."""

    op: Literal["add_assessment"] = "add_assessment"
    section: Section
    text: Text
    urls: list[Url] = Field(default_factory=list, max_length=20)
    confirmed: bool = False


Op = Annotated[
    ExcludeItem
    | ExcludeStory
    | MergeStories
    | MoveItem
    | SetBucket
    | RenameDevelopment
    | MoveDevelopment
    | PinDevelopment
    | DropDevelopment
    | EditSentence
    | AddAssessment,
    Field(discriminator="op"),
]
OP_ADAPTER: TypeAdapter[Op] = TypeAdapter(Op)
EVIDENCE_OPS = frozenset({"exclude_item", "exclude_story", "merge_stories", "move_item", "set_bucket"})
"""Ops applied before analysis (the rest are applied to the verified draft)."""


def parse_op(data: object) -> Op:
    """An op from JSON-like data; pydantic's ValidationError when it is not one."""
    return OP_ADAPTER.validate_python(data)


@dataclass(frozen=True)
class Edit:
    """A live op as stored: who made it and when (assessments carry the author's name)."""

    id: int
    op: Op
    author: str
    at: datetime
