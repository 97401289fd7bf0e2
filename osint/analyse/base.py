"""What every analysis engine gets (:class:`Evidence`) and gives back (:class:`Draft`).

Engines cite *item ids*; they never number citations or see URLs. Verification and
annex numbering happen after them, the same for every engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

from ..models import CountryProfile, Development, Item, Outlook, SectionBlock, Sentence, Story


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


@dataclass
class Draft:
    executive: list[Sentence]
    developments: list[Development]
    geopolitical: list[SectionBlock]
    military: list[SectionBlock]
    outlook: Outlook
    notes: list[str] = field(default_factory=list)
    model: str | None = None


class Engine(Protocol):
    name: str

    def compose(self, evidence: Evidence) -> Draft:
        """Write every section from the evidence, citing item ids."""
        ...
