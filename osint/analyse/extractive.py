"""The default engine: every section composed from sentences of the collected articles.

Nothing is written that a source did not say. A sentence is chosen for how central it
is to its story (closeness to the story's TF-IDF centroid, favouring the lead) and for
adding something the chosen ones do not; it cites its own article and every copy that
carries the same sentence. Where a section has no material it says so.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from ..models import (
    CalendarEvent,
    CountryProfile,
    Development,
    Draft,
    Evidence,
    Item,
    Outlook,
    SectionBlock,
    Sentence,
    Story,
)
from ..terms import TermMatcher
from ..text import (
    MONTH_NAMES,
    MONTH_PATTERN,
    MONTHS,
    content_words,
    dot,
    tokenize,
    unit,
    words,
)
from .language import REPORT_LANGUAGE, headline_item, language_name, sentence_language
from .sentences import quotable
from .trends import MAX_DEVELOPMENTS as MAX_DEVELOPMENTS  # the LLM engine reads it from here
from .trends import computed_statements, previous_development

SUMMARY_STORIES = 3
PARAGRAPH_SENTENCES = 3
NO_REPORTING = "No reporting this period."
MIN_HISTORY = 10
MAX_ITEMS_QUOTED = 12
CALENDAR_STORIES = 80  # the calendar reads the most important stories of the period
SAME_EVENT_OVERLAP = 0.3
SAME_EVENT_NAMES = 2
SAME_SENTENCE_OVERLAP = 0.7  # a section does not say again what shares more of its words
DISTINCT_LINE_OVERLAP = 0.5  # a flashpoint shares at most half its words with another
BARE_MONTH_AHEAD = 300  # days: a month named without its year, further ahead, is the one just past


@dataclass
class _Candidate:
    text: str
    item_id: int
    position: int
    score: float
    words: frozenset[str]
    language: str
    """The sentence's own language (a Russian sentence quoted in an English article is Russian)."""
    leans_back: bool = False
    """It depends on the sentence before it in its article (``antecedent``): quoted only after it."""
    antecedent: str | None = None


def _norm(text: str) -> str:
    return " ".join(words(text))


def _bag(text: str) -> Counter[str]:
    return Counter(content_words(text, min_length=3))


class ExtractiveEngine:
    """Deterministic, offline composition from source sentences."""

    name = "extractive"

    def __init__(self) -> None:
        # What depends only on an item (ids name stored items, which never change) or on a
        # story's members (a story id hashes its members' URLs) is kept between calls, so
        # writing the draft again after the review desk moves or drops an item re-reads
        # only what changed.
        self._cache: dict[str, list[_Candidate]] = {}
        self._norm_cache: dict[int, str] = {}
        self._found: dict[tuple[str, int], frozenset[str]] = {}
        self._dates: dict[tuple[str, date], list[tuple[str, date]]] = {}
        self._matchers: dict[str, tuple[CountryProfile, TermMatcher]] = {}
        self._match_cache: dict[tuple[int, str], bool] = {}
        self._alive: list[TermMatcher] = []

    def _matcher(self, name: str, build: Callable[[], TermMatcher]) -> TermMatcher:
        """A matcher built once per profile (and kept, so what it found in a text is kept too)."""
        kept = self._matchers.get(name)
        if kept is None or kept[0] is not self._ev.profile:
            kept = self._matchers[name] = (self._ev.profile, build())
            self._alive.append(kept[1])  # its id keys the match cache: keep it alive, never reused
        return kept[1]

    def compose(self, ev: Evidence) -> Draft:
        self._ev = ev
        stories = ev.stories
        top = stories[:MAX_DEVELOPMENTS]
        said: list[str] = []  # no sentence twice in the section
        developments = []
        for story in top:
            dev = self._development(story, said)
            if dev.sentences:
                developments.append(dev)
                said.extend(s.text for s in dev.sentences)
        executive = self._executive(stories)
        return Draft(
            executive=executive,
            developments=developments,
            geopolitical=self._geopolitical(stories),
            military=self._military(stories),
            outlook=self._outlook(stories),
        )

    # ------------------------------------------------------------------ sentences

    def _cites_for(self, text: str, story: Story, own: int) -> list[int]:
        """The item a sentence came from plus every item of the story that carries it too."""
        needle = _norm(text)
        ids = [own]
        for item_id in story.item_ids:
            if item_id != own and needle in self._normalised(item_id):
                ids.append(item_id)
        return ids

    def _normalised(self, item_id: int) -> str:
        if item_id not in self._norm_cache:
            self._norm_cache[item_id] = _norm(self._ev.items[item_id].text)
        return self._norm_cache[item_id]

    def _found_in(self, table: str, matcher: TermMatcher, item: Item, what: str) -> frozenset[str]:
        """Categories or terms (``what``) of ``matcher`` in an item's title and text, kept per item.

        ``table`` names the matcher: each is built from the profile the same way every call.
        """
        key = (table, item.id)
        if key not in self._found:
            hits = matcher.find(item.title + "\n" + item.text)
            self._found[key] = frozenset(
                h.category if what == "category" else h.term.rstrip("*") for h in hits
            )
        return self._found[key]

    def _mentions(self, matcher: TermMatcher, text: str) -> bool:
        key = (id(matcher), text)
        if key not in self._match_cache:  # matchers are kept (``_matcher``): an id is never reused
            self._match_cache[key] = bool(matcher.find(text))
        return self._match_cache[key]

    def _candidates(self, story: Story) -> list[_Candidate]:
        if story.id in self._cache:
            return self._cache[story.id]
        items = [self._ev.items[i] for i in story.item_ids if i not in story.copies]
        centroid: Counter[str] = Counter()
        for item in items:
            centroid.update(_bag(item.title))
            centroid.update(_bag(item.title))
            centroid.update(_bag(item.text))
        centroid_unit = unit(centroid)
        found: list[_Candidate] = []
        # The earliest, most reliable originals tell a story; a long tail adds cost, not news.
        for item in items[:MAX_ITEMS_QUOTED]:
            for q in quotable(item.text):
                pos, sent = q.position, q.text
                bag = _bag(sent)
                score = dot(unit(bag), centroid_unit) * (1.3 if pos == 0 else 1.15 if pos < 3 else 1.0)
                found.append(
                    _Candidate(
                        sent,
                        item.id,
                        pos,
                        score,
                        frozenset(bag),
                        sentence_language(sent, item),
                        q.leans_back,
                        q.antecedent,
                    )
                )
        found.sort(key=lambda c: (-c.score, c.item_id, c.position))
        self._cache[story.id] = found
        return found

    def _pick(
        self,
        story: Story,
        n: int,
        *,
        must: TermMatcher | None = None,
        avoid: Iterable[str] = (),
        avoid_above: float = SAME_SENTENCE_OVERLAP,
        skip_lists: bool = False,
    ) -> list[Sentence]:
        """Up to ``n`` central, mutually different sentences of a story, each standing alone.

        A sentence in another language than the report's is passed over when the story has
        one in the report's language; a sentence that leans on the one before it is taken
        only once that one is (and is placed right after it); one close to a sentence in
        ``avoid`` (what the section already says: more than ``avoid_above`` of the shorter
        one's words) is not said again.
        """
        chosen: list[_Candidate] = []
        avoid_words = [frozenset(_bag(a)) for a in avoid]
        candidates = self._candidates(story)
        own_language = any(c.language == REPORT_LANGUAGE for c in candidates)
        waiting: list[_Candidate] = []

        def fits(cand: _Candidate) -> bool:
            if own_language and cand.language != REPORT_LANGUAGE:
                return False
            if must is not None and not self._mentions(must, cand.text):
                return False
            if skip_lists and _is_list(cand.text):
                return False
            if any(_overlap(cand.words, c.words) > 0.5 for c in chosen):
                return False
            return not any(_overlap(cand.words, a) > avoid_above for a in avoid_words)

        def after_chosen(cand: _Candidate) -> bool:
            return any(c.item_id == cand.item_id and c.text == cand.antecedent for c in chosen)

        for cand in candidates:
            if len(chosen) >= n:
                break
            if cand.leans_back and not after_chosen(cand):
                waiting.append(cand)
                continue
            if fits(cand):
                chosen.append(cand)
        # A sentence passed over for leaning back comes in once what it leans on is chosen.
        for cand in waiting:
            if len(chosen) >= n:
                break
            if after_chosen(cand) and fits(cand):
                chosen.append(cand)
        return [
            Sentence(
                text=c.text,
                item_ids=self._cites_for(c.text, story, c.item_id),
                language=None if c.language == REPORT_LANGUAGE else _language_label(c.language),
            )
            for c in self._in_order(chosen)
        ]

    def _in_order(self, chosen: list[_Candidate]) -> list[_Candidate]:
        """The most central sentence leads; the rest follow in the order the sources tell it,
        and a sentence that leans back comes right after the one it leans on."""
        if not chosen:
            return []
        items = self._ev.items
        alone = [c for c in chosen[1:] if not c.leans_back]
        alone.sort(key=lambda c: (items[c.item_id].published, c.item_id, c.position))
        ordered = [chosen[0], *alone]
        for dep in sorted((c for c in chosen if c.leans_back), key=lambda c: (c.item_id, c.position)):
            at = next(
                k for k, c in enumerate(ordered) if c.item_id == dep.item_id and c.text == dep.antecedent
            )
            ordered.insert(at + 1, dep)
        return ordered

    # ------------------------------------------------------------------ sections

    def _development(self, story: Story, said: Sequence[str] = ()) -> Development:
        """A story as a Key Development; one continuing from last period's report leaves out
        what that report already quoted, so its paragraph tells what is new."""
        head, language = headline_item(story, self._ev.items)
        before = previous_development(story, self._ev.previous_report)
        if before is not None:
            said = [*said, *(s.text for s in before.sentences)]
        title_ids = [i for i in story.item_ids if _norm(self._ev.items[i].title) == _norm(head.title)]
        return Development(
            title=Sentence(text=head.title, item_ids=title_ids),
            title_language=language,
            sentences=self._pick(story, PARAGRAPH_SENTENCES, avoid=said),
            buckets=story.buckets,
            item_ids=story.item_ids,
            story_id=story.id,
            score=story.score,
            status=story.status,
            previous=story.previous,
        )

    def _executive(self, stories: Sequence[Story]) -> list[Sentence]:
        """The leading stories' leads and what the engine computed (most coverage, what changed)."""
        leads: list[Sentence] = []
        for story in stories[:SUMMARY_STORIES]:
            leads.extend(self._pick(story, 1, avoid=[s.text for s in leads]))
        # The leads come first in the list (what an editor rewords first is a quoted fact);
        # every format shows the computed statements above them.
        return _prefer_own(leads, SUMMARY_STORIES) + computed_statements(self._ev)

    def _geopolitical(self, stories: Sequence[Story]) -> list[SectionBlock]:
        blocks: list[SectionBlock] = []
        profile = self._ev.profile
        used: list[str] = []
        anyone = TermMatcher(
            (t, key, 1.0) for key, cp in profile.counterparts.items() for ts in cp.terms.values() for t in ts
        )
        named: dict[str, set[str]] = {}  # story id -> counterparts its quoted items name at all
        for story in stories:
            items = [self._ev.items[i] for i in story.item_ids if i not in story.copies][:MAX_ITEMS_QUOTED]
            named[story.id] = {
                c for i in items for c in self._found_in("counterparts", anyone, i, "category")
            }
        for key, cp in profile.counterparts.items():
            terms = [(t, key, 1.0) for ts in cp.terms.values() for t in ts]
            matcher = self._matcher(f"counterpart:{key}", partial(TermMatcher, terms))
            sentences: list[Sentence] = []
            for story in stories:
                if not {"diplomacy", "economy"} & set(story.buckets) or key not in named[story.id]:
                    continue
                picked = self._pick(story, 1, must=matcher, avoid=used, skip_lists=True)
                sentences.extend(picked)
                used.extend(p.text for p in picked)
                if _own_count(sentences) >= 4:
                    break
            sentences = _prefer_own(sentences, 4)
            blocks.append(
                SectionBlock(
                    heading=cp.label,
                    sentences=sentences,
                    empty_note=None if sentences else NO_REPORTING,
                )
            )
        return blocks

    def _military(self, stories: Sequence[Story]) -> list[SectionBlock]:
        blocks = []
        said: list[str] = []  # no sentence twice in the section
        for bucket, heading in (("defense", "Defense"), ("security", "Internal and public security")):
            sentences: list[Sentence] = []
            for story in stories:
                if story.buckets and story.buckets[0] == bucket:
                    picked = self._pick(story, 2, avoid=said)
                    sentences.extend(picked)
                    said.extend(p.text for p in picked)
                if _own_count(sentences) >= 8:
                    break
            sentences = _prefer_own(sentences, 8)
            blocks.append(
                SectionBlock(
                    heading=heading, sentences=sentences, empty_note=None if sentences else NO_REPORTING
                )
            )
        return blocks

    # ------------------------------------------------------------------ outlook

    def _outlook(self, stories: Sequence[Story]) -> Outlook:
        flashpoints: list[Sentence] = []
        risk = self._matcher("risk", self._risk_matcher)
        for story in stories:
            if "security" in story.buckets[:1]:
                said = [f.text for f in flashpoints]  # each line its own risk, not the same in other words
                flashpoints.extend(
                    self._pick(story, 1, must=risk, avoid=said, avoid_above=DISTINCT_LINE_OVERLAP)
                )
            if _own_count(flashpoints) >= 4:
                break
        flashpoints = _prefer_own(flashpoints, 4)
        note, indicators, previous_indicators = self._indicators()
        return Outlook(
            calendar=self._calendar(stories),
            flashpoints=flashpoints,
            indicators=indicators,
            indicators_note=note,
            previous_indicators=previous_indicators,
            recommendations=[],
        )

    def _calendar(self, stories: Sequence[Story]) -> list[CalendarEvent]:
        """One line per future appointment the period's stories name, each standing alone.

        Stories are in importance order and candidates in centrality order, so the first
        sentence seen for an event is the one kept. A sentence is one line (its first
        future date; more dates in it are named in the line's date); a later sentence on
        the same day is the same appointment when it says mostly the same, or shares two
        names (an exercise's, a summit's) with one kept that not every other item names.
        """
        events: list[tuple[CalendarEvent, frozenset[str], frozenset[str]]] = []
        seen: set[str] = set()
        rarity = self._rare_names()
        for story in stories[:CALENDAR_STORIES]:
            candidates = self._candidates(story)
            own_language = any(c.language == REPORT_LANGUAGE for c in candidates)
            for cand in candidates:
                if cand.leans_back or (own_language and cand.language != REPORT_LANGUAGE):
                    continue
                if cand.text in seen:
                    continue
                dated = self._dates.get((cand.text, self._ev.end))
                if dated is None:
                    dated = self._dates[(cand.text, self._ev.end)] = future_dates(cand.text, self._ev.end)
                if not dated:
                    continue
                seen.add(cand.text)
                (label, key), *more = dated
                event_words = frozenset(_bag(cand.text))
                names = frozenset(n for n in _names(cand.text) if rarity(n))
                if any(
                    other.sort_key == key
                    and (
                        _overlap(event_words, ow) >= SAME_EVENT_OVERLAP or len(names & on) >= SAME_EVENT_NAMES
                    )
                    for other, ow, on in events
                ):
                    continue
                when = " and ".join([label, *(m[0] for m in more)])
                sentence = Sentence(text=cand.text, item_ids=self._cites_for(cand.text, story, cand.item_id))
                events.append((CalendarEvent(when=when, sort_key=key, sentence=sentence), event_words, names))
        kept = [e for e, _w, _n in events]
        return sorted(kept, key=lambda e: (e.sort_key, e.sentence.text))[:12]

    def _rare_names(self) -> Callable[[str], bool]:
        """Whether a name (a capitalised word) is rare enough in the period to tell one event:
        named by at most half of its items, and not the country's own name."""
        own = {w.lower() for ts in self._ev.profile.names.values() for t in ts for w in tokenize(t)}
        texts = [self._normalised(i) for i in self._ev.items]
        limit = max(2, len(texts) // 2)
        known: dict[str, bool] = {}

        def rare(name: str) -> bool:
            if name not in known:
                needle = f" {name} "
                known[name] = name not in own and sum(needle in f" {t} " for t in texts) <= limit
            return known[name]

        return rare

    def _risk_matcher(self) -> TermMatcher:
        """Strong security terms of the taxonomy: a flashpoint sentence must name a risk."""
        spec = self._ev.profile.taxonomy.get("security")
        terms = (
            []
            if spec is None
            else [
                (t, "security", 1.0)
                for weighted in spec.terms.values()
                for t, w in weighted.items()
                if w >= 3
            ]
        )
        return TermMatcher(terms)

    def _indicator_matcher(self) -> TermMatcher:
        p = self._ev.profile
        terms = [
            (t, kind, 1.0)
            for kind, table in (("place", p.places), ("person", p.people), ("institution", p.institutions))
            for ts in table.values()
            for t in ts
        ]
        for bucket, spec in p.taxonomy.items():
            for weighted in spec.terms.values():
                terms.extend((t, bucket, 1.0) for t, w in weighted.items() if w >= 4)
        return TermMatcher(terms)

    def _indicators(self) -> tuple[str | None, list[str], list[str]]:
        """A note on what the list is, what is rising this period, and what rose last week.

        An indicator is a place, person, institution or strong bucket term named by
        more items this period than its weekly average before. With too little history
        in the store to compare against, say so and list what was named most instead,
        leaving out what nearly every item names (the capital) and the outlets' names.
        """
        matcher = self._indicator_matcher()
        outlets = " ".join({i.source.lower() for i in self._ev.items.values()})

        def counts(items: Iterable[Item]) -> Counter[str]:
            c: Counter[str] = Counter()
            for item in items:
                c.update(self._found_in("indicators", matcher, item, "term"))
            return c

        now = counts(self._ev.items.values())
        total = max(1, len(self._ev.items))
        background = {t for t, n in now.items() if n > 0.6 * total or t.lower() in outlets}
        weeks = max(1, self._ev.previous_weeks)
        previous = self._ev.previous
        if len(previous) < MIN_HISTORY:
            top = [(n, t) for t, n in now.items() if n >= 2 and t not in background]
            top.sort(key=lambda x: (-x[0], x[1]))
            note = (
                f"The store holds {len(previous)} relevant items from the {weeks} weeks before this "
                "period, too few to tell what is rising. Named most this period:"
            )
            return note, [f"{t}: {n} items" for n, t in top[:8]], []
        rising = _rising(now, counts(previous), weeks, background)
        current = [
            f"{term}: named in {n} items this period (a weekly average of {base:.1f} in the "
            f"{weeks} weeks before)"
            for term, n, base in rising[:8]
        ]
        week_start = datetime.combine(self._ev.start, time(0), tzinfo=self._ev.zone) - timedelta(days=7)
        last_week = [i for i in previous if i.published >= week_start]
        older = [i for i in previous if i.published < week_start]
        last = _rising(counts(last_week), counts(older), max(1, weeks - 1), background)
        followed = [
            f"{term}: rising last week ({n} items); named in {now.get(term, 0)} items this period"
            for term, n, _base in last[:8]
        ]
        return None, current, followed


def _rising(
    now: Counter[str], before: Counter[str], weeks: int, background: set[str]
) -> list[tuple[str, int, float]]:
    """Terms named in at least two items and more than twice their weekly average before."""
    rising = []
    for term, n in now.items():
        base = before.get(term, 0) / weeks
        if term not in background and n >= 2 and n >= 2 * base + 1:
            rising.append((n - base, term, n, base))
    rising.sort(key=lambda r: (-r[0], r[1]))
    return [(term, n, base) for _, term, n, base in rising]


def _own_count(sentences: list[Sentence]) -> int:
    return sum(1 for s in sentences if s.language is None)


def _prefer_own(sentences: list[Sentence], n: int) -> list[Sentence]:
    """A section's first ``n`` sentences in the report's language; those in another language
    (each marked with it) only when it has none in the report's."""
    own = [s for s in sentences if s.language is None]
    return (own or sentences)[:n]


def _language_label(code: str) -> str:
    """How a quoted sentence's language is shown: "Russian", or "Cyrillic" for a script."""
    name = language_name(code)
    return name if name != code else code.capitalize()


def _is_list(text: str) -> bool:
    """A sentence that mostly enumerates names ("comprises Armenia, Belarus, ...")."""
    return text.count(",") >= 3 and sum(1 for t in tokenize(text) if t[:1].isupper()) >= 6


def _names(text: str) -> set[str]:
    """Capitalised words after a sentence's first (names of people, places, bodies, events),
    lower-cased, months left out."""
    toks = tokenize(text)[1:]
    return {t.lower() for t in toks if t[:1].isupper() and len(t) > 2 and t not in MONTHS}


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


_MONTH_RE = MONTH_PATTERN
_FUTURE_CUE = re.compile(
    r"\b(will|shall|scheduled|expected|plans?|planned|upcoming|ahead of|to be held|is to|are to|"
    r"set to|due to|next|forthcoming|would)\b",
    re.IGNORECASE,
)
_DATE_PATTERNS = [
    re.compile(rf"\b(?P<month>{_MONTH_RE}) (?:and|to|-|–) (?:{_MONTH_RE}),? (?P<year>20\d\d)\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:[-–]\d{{1,2}})? (?P<month>{_MONTH_RE})\.?,? (?P<year>20\d\d)\b"),
    re.compile(rf"\b(?P<month>{_MONTH_RE})\.? (?P<day>\d{{1,2}})(?:[-–]\d{{1,2}})?,? (?P<year>20\d\d)\b"),
    re.compile(rf"\b(?P<month>{_MONTH_RE})\.? (?P<day>\d{{1,2}})(?:[-–]\d{{1,2}})?\b"),
    re.compile(
        rf"\b(?:in|by|from|until|during|this|next) (?:early |mid-|late )?"
        rf"(?P<month>{_MONTH_RE})(?:,? (?P<year>20\d\d))?\b"
    ),
    re.compile(rf"\b(?P<month>{_MONTH_RE}) (?P<year>20\d\d)\b"),
]


def future_dates(text: str, after: date) -> list[tuple[str, date]]:
    """Dates named in ``text`` that fall after ``after`` (within a year), as (label, day).

    A month without a year is taken to be its next occurrence after the period.
    """
    found: dict[date, str] = {}
    taken: list[tuple[int, int]] = []
    future_cue = bool(_FUTURE_CUE.search(text))
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append(m.span())
            month = MONTHS[m.group("month").rstrip(".")]
            year_s = m.groupdict().get("year")
            day_s = m.groupdict().get("day")
            year = int(year_s) if year_s else after.year
            if not year_s and month < after.month:
                year += 1
            try:
                day = date(year, month, int(day_s)) if day_s else date(year, month, 1)
            except ValueError:
                continue
            if not year_s and not future_cue:
                continue  # "in January" in a sentence about the past is no appointment
            if not year_s and (day - after).days > BARE_MONTH_AHEAD and "next" not in m.group(0).lower():
                continue  # "Earlier in October", written in November, is not next October
            if day_s is None and year == after.year and month == after.month:
                continue  # "in March" during March: not a future date
            if not (after < day <= date(after.year + 1, after.month, min(after.day, 28))):
                continue
            label = (
                f"{MONTH_NAMES[month - 1]} {day.day}, {year}" if day_s else f"{MONTH_NAMES[month - 1]} {year}"
            )
            found.setdefault(day, label)
    grouped: dict[str, date] = defaultdict(lambda: date.max)
    for d, label in found.items():
        grouped[label] = min(grouped[label], d)
    return sorted(((label, d) for label, d in grouped.items()), key=lambda x: x[1])
