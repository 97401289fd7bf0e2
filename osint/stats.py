"""One stats record per run, in the manner of scrapy's stats collector.

Every stage that counts something (collection, verification, the LLM engine, the
archive, delivery) writes into the run's :class:`Stats` by key; the run record in the
store (``runs.stats``), the report's coverage section and the CLI summary all read the
same record, so a figure is counted once and shown the same everywhere. Keys are
``area/what`` (``collect/new_items``, ``verify/dropped/no citation``); values are plain
JSON data.
"""

from __future__ import annotations

from collections.abc import Mapping

StatValue = object
"""Counters are ints; other values are any JSON data (lists of names, a period)."""


class Stats:
    """Counters and values of one run, by key."""

    def __init__(self) -> None:
        self._values: dict[str, StatValue] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to the counter ``key`` (created at ``start``)."""
        current = self._values.get(key, start)
        assert isinstance(current, int), f"stats key {key!r} is not a counter"
        self._values[key] = current + count

    def set_value(self, key: str, value: StatValue) -> None:
        self._values[key] = value

    def get_value(self, key: str, default: StatValue = None) -> StatValue:
        return self._values.get(key, default)

    def count(self, key: str) -> int:
        """A counter's value, 0 when nothing was counted."""
        value = self._values.get(key, 0)
        return value if isinstance(value, int) else 0

    def under(self, prefix: str) -> dict[str, StatValue]:
        """Every value whose key starts with ``prefix/``, keyed by the rest of the key."""
        head = prefix.rstrip("/") + "/"
        return {k[len(head) :]: v for k, v in self._values.items() if k.startswith(head)}

    def clear(self, prefix: str) -> None:
        """Forget ``prefix`` and every key under it (a figure about to be recounted)."""
        head = prefix.rstrip("/")
        for key in [k for k in self._values if k == head or k.startswith(head + "/")]:
            del self._values[key]

    def get_stats(self) -> dict[str, StatValue]:
        """A copy of everything recorded, for the run record."""
        return dict(self._values)

    def update(self, values: Mapping[str, StatValue]) -> None:
        self._values.update(values)
