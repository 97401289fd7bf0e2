"""Analysis: engines that write the report's sections from stories, then verification.

Engines share one interface (:class:`~osint.analyse.base.Engine`): they get the
period's evidence and return a draft citing item ids. Every draft, whatever wrote it,
is verified against its sources and numbered by :mod:`~osint.analyse.assemble`.
"""

from __future__ import annotations

from ..models import Draft, Evidence
from .assemble import assemble_report, domain_of
from .base import Engine
from .extractive import ExtractiveEngine
from .verify import VerifyStats, verify_draft

__all__ = [
    "Draft",
    "Engine",
    "Evidence",
    "ExtractiveEngine",
    "VerifyStats",
    "assemble_report",
    "domain_of",
    "verify_draft",
]
