"""The ``classify`` job: JSON lines of title and text -> the profile's decision on each (taxonomy tuning)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ..models import Classification
from .context import RunContext


def classify_lines(ctx: RunContext, lines: Iterable[str]) -> Iterator[tuple[int, Classification | str]]:
    """(line number, classification) for each JSON object read, or (line number, why it was skipped)."""
    from ..classify import Classifier  # only this command needs it

    classifier = Classifier(ctx.config.profile)
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            title = str(obj.get("title") or "")
            text = str(obj.get("text") or "")
        except ValueError as exc:
            yield lineno, f"not a JSON object with title/text ({exc})"
            continue
        yield lineno, classifier.classify(title, text, obj.get("source_country"))
