"""Check every sentence of a draft against the items it cites, whatever engine wrote it.

A sentence survives only if it cites at least one item of this period and no other,
and every number (in digits or words), day of a month and proper name in it appears in
the text of the items it cites. This is what lets an analyst trust a line without
re-reading every source: an engine that invents a figure, a date, a name or a citation
loses the sentence, and the report says how many it lost and why. Every check is made
on a sentence that fails one, so each reason it fails is counted: the counts by reason
may add up to more than the sentences lost.

Facts and judgements never share a sentence (SPEC §4). An assessment
(``kind == "assessment"``) must carry an estimative word in the ICD 203 sense (almost no
chance, very unlikely, unlikely, roughly even chance, likely, very likely, almost
certainly, and their synonyms) and name its author; a fact that someone wrote (it has an
author: a model or an analyst) must not carry one — a judgement goes into an assessment
of its own. A quoted source sentence (no author) may report its source's own estimate.
Both kinds are checked for names, numbers, days and citations alike.

Web text stays data: a sentence carrying a link or markup, a sentence that reads like
an instruction to a model, and a sentence using words its sources hold only in such
instruction-like passages (an injection echoed by a model) are dropped too; those
passages never count as support.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from ..models import Draft, Evidence, Sentence
from ..text import MONTH_PATTERN, MONTHS, tokenize
from .trends import computed_statements
from .untrusted import has_link_or_markup, instruction_like, split_withheld, words

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000", "dozen": "12",
    "dozens": "", "hundreds": "", "thousands": "", "million": "", "millions": "", "billion": "",
    "billions": "", "trillion": "",
}  # fmt: skip
_DIGIT_WORDS = {d: w for w, d in _NUMBER_WORDS.items() if d}
_MONTH_RE = MONTH_PATTERN
_DAY_MONTH = re.compile(
    rf"\b(?:(?P<m1>{_MONTH_RE})\.? (?P<d1>\d{{1,2}})|(?P<d2>\d{{1,2}}) (?P<m2>{_MONTH_RE}))\b"
    r"|\b20\d\d-(?P<m3>\d\d)-(?P<d3>\d\d)\b"
)


ESTIMATIVE = re.compile(
    r"\b(?:almost no chance|remote (?:chance|possibility|prospect)|(?:very |highly )?unlikely"
    r"|(?:highly )?improbabl[ey]|roughly even (?:chance|odds)|(?:very |highly )?likely"
    r"|(?:highly )?probabl[ey]|almost certain(?:ly)?|nearly certain(?:ly)?)\b",
    re.IGNORECASE,
)
"""The estimative language of ICD 203 (Analytic Standards): the words an assessment
states its likelihood in."""


@dataclass
class VerifyStats:
    checked: int = 0
    dropped: int = 0
    reasons: list[str] = field(default_factory=list)
    """Each dropped sentence, once: every reason with its detail ("; " between them), then the
    start of the sentence (logged by the report job)."""
    by_reason: dict[str, int] = field(default_factory=dict)
    """Dropped sentences counted under each reason they failed (the report's coverage section
    shows them): a sentence failing two checks counts under both, so these may sum to more
    than ``dropped``."""


def _digits(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _names(text: str, entities: frozenset[str] = frozenset()) -> set[str]:
    """Capitalised words that are not the first word of the sentence: names, places, bodies.

    The first word is capitalised anyway, so it counts only when it is a known entity of
    the country profile ("Russia ...") or an acronym; acronyms count from two letters (EU).
    """
    toks = tokenize(text)
    out = set()
    for i, tok in enumerate(toks):
        if not tok[:1].isupper() or tok.isdigit():
            continue
        acronym = len(tok) >= 2 and tok.isupper() and tok.isalpha()
        if i == 0 and not (acronym or tok.lower() in entities):
            continue
        if len(tok) < 3 and not acronym:
            continue
        out.add(tok.lower())
    return out


def _days(text: str) -> set[tuple[int, int]]:
    """(month, day) of every day of a month named in ``text`` ("March 9", "9 March", "2026-03-09")."""
    out = set()
    for m in _DAY_MONTH.finditer(text):
        if m.group("m3"):
            out.add((int(m.group("m3")), int(m.group("d3"))))
        else:
            month = MONTHS[m.group("m1") or m.group("m2")]
            out.add((month, int(m.group("d1") or m.group("d2"))))
    return out


def _without_days(text: str, days: set[tuple[int, int]]) -> str:
    """``text`` without the month and day of each of ``days`` it names (an ISO date keeps its
    year): a day its sources lack is reported as a date, not once more as a number."""

    def cut(m: re.Match[str]) -> str:
        if m.group("m3"):
            day, year = (int(m.group("m3")), int(m.group("d3"))), m.group(0)[:4]
        else:
            day, year = (MONTHS[m.group("m1") or m.group("m2")], int(m.group("d1") or m.group("d2"))), ""
        return (year or " ") if day in days else m.group(0)

    return _DAY_MONTH.sub(cut, text) if days else text


def _entities(ev: Evidence) -> frozenset[str]:
    """Single capitalised words of the profile's names, places, people, bodies, counterparts."""
    p = ev.profile
    tables = [p.names, p.places, p.people, p.institutions, *(cp.terms for cp in p.counterparts.values())]
    return frozenset(
        w.lower()
        for table in tables
        for terms in table.values()
        for term in terms
        for w in tokenize(term.rstrip("*"))
        if w[:1].isupper()
    )


@dataclass(frozen=True)
class _Facts:
    """What a source's text can support: its words, numbers and days, and the words it
    holds only in instruction-like passages."""

    words: frozenset[str]
    digits: frozenset[str]
    days: frozenset[tuple[int, int]]
    withheld: frozenset[str]


@lru_cache(maxsize=8192)
def _source_facts(text: str) -> _Facts:
    """The facts of one item's title and text, kept by text: an item's text never changes,
    and the review desk verifies a week's drafts again after every edit to its evidence."""
    kept, withheld = split_withheld(text)
    own = words(kept)
    return _Facts(
        frozenset(own),
        frozenset(_digits(kept)),
        frozenset(_days(kept)),
        frozenset(words(" ".join(withheld)) - own),
    )


class Verifier:
    def __init__(self, ev: Evidence) -> None:
        self._ev = ev
        self._source_words: dict[int, frozenset[str]] = {}
        self._source_digits: dict[int, frozenset[str]] = {}
        self._source_days: dict[int, frozenset[tuple[int, int]]] = {}
        self._withheld_words: dict[int, frozenset[str]] = {}
        self._entities = _entities(ev)
        # The country the report is about is its subject, not a claim: a domestic outlet's
        # story ("the Prime Minister visited ...") supports "Mongolia's Prime Minister ...".
        self._region = frozenset(
            w.lower()
            for terms in ev.profile.names.values()
            for term in terms
            for w in tokenize(term.rstrip("*"))
        )
        self._computed: dict[str, Sentence] | None = None
        self.stats = VerifyStats()
        self.last_failures: list[tuple[str, str]] = []
        """Every check the last sentence checked failed, as (reason, detail)."""

    def _words_of(self, item_id: int) -> frozenset[str]:
        if item_id not in self._source_words:
            item = self._ev.items[item_id]
            facts = _source_facts(f"{item.title}\n{item.text}")
            self._source_words[item_id] = facts.words
            self._source_digits[item_id] = facts.digits
            self._source_days[item_id] = facts.days
            self._withheld_words[item_id] = facts.withheld
        return self._source_words[item_id]

    def check(self, sentence: Sentence) -> Sentence | None:
        """The sentence citing only this period's items, or None when it fails a check.

        Every check is made, not only up to the first that fails: a sentence with a
        figure and a name its sources lack is dropped once, for both reasons, so the
        analyst reading why sees all that was wrong with it.
        """
        self.stats.checked += 1
        ids = [i for i in dict.fromkeys(sentence.item_ids) if i in self._ev.items]
        failures = self._failures(sentence, ids)
        self.last_failures = failures
        if failures:
            self._drop(sentence, failures)
            return None
        return sentence.model_copy(update={"item_ids": ids})

    def _failures(self, sentence: Sentence, ids: list[int]) -> list[tuple[str, str]]:
        """Every check ``sentence`` fails, as (reason, detail), in the order they are made."""
        out: list[tuple[str, str]] = []
        unknown = [i for i in sentence.item_ids if i not in self._ev.items]
        if unknown or not ids:
            out.append(("cites no item of this period", f"{unknown or 'none'}"))
        if has_link_or_markup(sentence.text):
            out.append(("carries a link or markup", ""))
        if instruction_like(sentence.text):
            out.append(("reads like an instruction to a model", ""))
        if sentence.kind == "computed":
            return out + (self._computed_failures(sentence, ids) if ids else [])
        estimative = ESTIMATIVE.search(sentence.text)
        if sentence.kind == "assessment" and not sentence.author:
            out.append(("an assessment without its author", ""))
        if sentence.kind == "assessment" and estimative is None:
            out.append(("an assessment without an estimative word", ""))
        if sentence.kind == "fact" and sentence.author and estimative is not None:
            out.append((f"a judgement ({estimative.group(0)!r}) written as a fact", ""))
        return out + (self._source_failures(sentence, ids) if ids else [])

    def _source_failures(self, sentence: Sentence, ids: list[int]) -> list[tuple[str, str]]:
        """What of ``sentence`` the items it cites do not hold: numbers, days, names, and
        words those items hold only in instruction-like passages."""
        out: list[tuple[str, str]] = []
        source_words: set[str] = set()
        digits: set[str] = set()
        days: set[tuple[int, int]] = set()
        withheld: set[str] = set()
        for i in ids:
            source_words |= self._words_of(i)
            digits |= self._source_digits[i]
            days |= self._source_days[i]
            withheld |= self._withheld_words[i]
        own_words = words(sentence.text)
        echoed = sorted((own_words & withheld) - source_words)
        if echoed:
            out.append(("repeats instruction-like text of its sources", ", ".join(echoed[:5])))
        missing_days = sorted(_days(sentence.text) - days)
        counted = _without_days(sentence.text, set(missing_days))  # a wrong day is a date, not a number
        missing_numbers = sorted(
            n for n in _digits(counted) - digits if _DIGIT_WORDS.get(n) not in source_words
        )
        missing_numbers += sorted(
            w
            for w in own_words & _NUMBER_WORDS.keys()
            if w not in source_words and _NUMBER_WORDS[w] not in digits
        )
        if missing_numbers:
            out.append(("numbers not in its sources", ", ".join(missing_numbers)))
        if missing_days:
            out.append(("dates not in its sources", ", ".join(f"{m:02d}-{d:02d}" for m, d in missing_days)))
        named = _names(sentence.text, self._entities) - self._region
        missing_names = sorted(n for n in named if n not in source_words)
        if missing_names:
            out.append(("names not in its sources", ", ".join(missing_names[:5])))
        return out

    def _computed_failures(self, sentence: Sentence, ids: list[int]) -> list[tuple[str, str]]:
        """A computed statement stands only if computing the statements again from the same
        evidence gives it word for word, citing no item that computation did not."""
        if self._computed is None:
            self._computed = {s.text: s for s in computed_statements(self._ev)}
        expected = self._computed.get(sentence.text)
        if expected is None:
            return [("a computed statement the store does not bear out", "")]
        stray = [i for i in ids if i not in expected.item_ids]
        if stray:
            return [("a computed statement citing items it was not computed from", f"{stray}")]
        return []

    def _drop(self, sentence: Sentence, failures: list[tuple[str, str]]) -> None:
        """Count one dropped sentence, and each reason it was dropped for."""
        self.stats.dropped += 1
        for why, _ in failures:
            self.stats.by_reason[why] = self.stats.by_reason.get(why, 0) + 1
        self.stats.reasons.append(f"{self.last_reason}: {sentence.text[:120]!r}")

    @property
    def last_reason(self) -> str | None:
        """Why the last sentence checked was dropped: every reason, with its detail."""
        shown = [f"{why}: {detail}" if detail else why for why, detail in self.last_failures]
        return "; ".join(shown) or None

    def keep(self, sentences: list[Sentence]) -> list[Sentence]:
        return [s for s in (self.check(x) for x in sentences) if s is not None]


def why_unsupported(sentence: Sentence, ev: Evidence) -> str | None:
    """Why verification would drop ``sentence`` (None when its cited items support it).

    The review desk asks this of every sentence an analyst edits or adds with citations.
    """
    v = Verifier(ev)
    return None if v.check(sentence) is not None else v.last_reason


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
