"""Check every sentence of a draft against the items it cites, whatever engine wrote it.

A sentence survives only if it cites at least one item of this period, and every
number and proper name in it appears in the text of the items it cites. This is what
lets an analyst trust a line without re-reading every source: an engine that invents
a figure, a date or a name loses the sentence, and the report says how many it lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import Sentence
from .base import Draft, Evidence

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class VerifyStats:
    checked: int = 0
    dropped: int = 0
    reasons: list[str] = field(default_factory=list)


def _digits(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _names(text: str) -> set[str]:
    """Capitalised words that are not the first word of the sentence: names, places, bodies."""
    toks = _WORD.findall(text)
    out = set()
    for i, tok in enumerate(toks):
        if i == 0 or not tok[:1].isupper() or tok.isdigit():
            continue
        if len(tok) < 3:
            continue
        out.add(tok.lower())
    return out


class Verifier:
    def __init__(self, ev: Evidence) -> None:
        self._ev = ev
        self._source_words: dict[int, set[str]] = {}
        self._source_digits: dict[int, set[str]] = {}
        self.stats = VerifyStats()

    def _words_of(self, item_id: int) -> set[str]:
        if item_id not in self._source_words:
            item = self._ev.items[item_id]
            text = f"{item.title}\n{item.text}"
            self._source_words[item_id] = {w.lower() for w in _WORD.findall(text)}
            self._source_digits[item_id] = _digits(text)
        return self._source_words[item_id]

    def check(self, sentence: Sentence) -> Sentence | None:
        self.stats.checked += 1
        ids = [i for i in dict.fromkeys(sentence.item_ids) if i in self._ev.items]
        unknown = [i for i in sentence.item_ids if i not in self._ev.items]
        if not ids:
            return self._drop(sentence, f"cites no item of this period ({unknown or 'none'})")
        words: set[str] = set()
        digits: set[str] = set()
        for i in ids:
            words |= self._words_of(i)
            digits |= self._source_digits[i]
        missing_numbers = sorted(_digits(sentence.text) - digits)
        if missing_numbers:
            return self._drop(sentence, f"numbers not in its sources: {', '.join(missing_numbers)}")
        missing_names = sorted(n for n in _names(sentence.text) if n not in words)
        if missing_names:
            return self._drop(sentence, f"names not in its sources: {', '.join(missing_names[:5])}")
        return sentence.model_copy(update={"item_ids": ids})

    def _drop(self, sentence: Sentence, why: str) -> Sentence | None:
        self.stats.dropped += 1
        self.stats.reasons.append(f"{why}: {sentence.text[:120]!r}")
        return None

    def keep(self, sentences: list[Sentence]) -> list[Sentence]:
        return [s for s in (self.check(x) for x in sentences) if s is not None]


def verify_draft(draft: Draft, ev: Evidence) -> tuple[Draft, VerifyStats]:
    """A copy of the draft holding only the sentences its sources support."""
    v = Verifier(ev)
    keep: Callable[[list[Sentence]], list[Sentence]] = v.keep
    developments = []
    for dev in draft.developments:
        title = v.check(dev.title)
        sentences = keep(dev.sentences)
        if title is not None and sentences:
            developments.append(dev.model_copy(update={"title": title, "sentences": sentences}))
    geopolitical = [b.model_copy(update={"sentences": keep(b.sentences)}) for b in draft.geopolitical]
    military = [b.model_copy(update={"sentences": keep(b.sentences)}) for b in draft.military]
    for blocks in (geopolitical, military):
        for b in blocks:
            if not b.sentences and b.empty_note is None:
                b.empty_note = "No verifiable reporting this period."
    outlook = draft.outlook.model_copy(
        update={
            "calendar": [
                e.model_copy(update={"sentence": s})
                for e in draft.outlook.calendar
                if (s := v.check(e.sentence)) is not None
            ],
            "flashpoints": keep(draft.outlook.flashpoints),
            "recommendations": keep(draft.outlook.recommendations),
        }
    )
    verified = Draft(
        executive=keep(draft.executive),
        developments=developments,
        geopolitical=geopolitical,
        military=military,
        outlook=outlook,
        notes=list(draft.notes),
        model=draft.model,
    )
    return verified, v.stats
