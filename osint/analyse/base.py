"""The analysis engine's protocol: :class:`Evidence` in, :class:`Draft` out.

Both live in :mod:`osint.models` (the editorial stage adjusts them without importing
analysis); engines cite *item ids*; they never number citations or see URLs.
Verification and annex numbering happen after them, the same for every engine.
"""

from __future__ import annotations

from typing import Protocol

from ..models import Draft, Evidence


class Engine(Protocol):
    name: str

    def compose(self, evidence: Evidence) -> Draft:
        """Write every section from the evidence, citing item ids."""
        ...
