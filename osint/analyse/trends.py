"""Statements the extractive engine computes from the store: what drew most coverage, what changed.

A quoted sentence restates its source; a computed statement is the engine's own plain
sentence about what it can count and link in the store: which developments drew the most
outlets, how coverage by bucket and by counterpart moved against the period before, which
developments continue from last period's report and which are new, and where last
period's indicators went. Each cites items of this period that bear it out. The verifier
accepts one (``kind == "computed"``) only when computing the statements again from the same
evidence gives it word for word, so none can say what the store does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time, timedelta

from ..models import BUCKETS, Bucket, Development, Evidence, Item, Report, Sentence, Story
from ..terms import TermMatcher
from .language import headline_item

MAX_DEVELOPMENTS = 10
"""How many stories become Key Developments (the statements speak of those)."""
MOST_COVERED = 3
NEW_LISTED = 3
MAX_INDICATORS = 6
_BUCKET_NAMES: dict[Bucket, str] = {
    "security": "security",
    "economy": "the economy",
    "diplomacy": "diplomacy",
    "defense": "defense",
}


def computed_statements(ev: Evidence) -> list[Sentence]:
    """Every computed statement of the period, in the order the executive summary gives them."""
    found = [
        _most_covered(ev),
        _continuing(ev),
        _buckets_moved(ev),
        _counterparts_moved(ev),
        _indicators_moved(ev),
    ]
    return [s for s in found if s is not None]


def previous_development(story: Story, report: Report | None) -> Development | None:
    """The development of last period's report that ``story`` continues (None: none does).

    The one holding most of the earlier items the story was linked to (history.py).
    """
    if report is None or not story.previous_ids:
        return None
    earlier = set(story.previous_ids)
    best = max(report.developments, key=lambda d: len(earlier & set(d.item_ids)), default=None)
    return best if best is not None and earlier & set(best.item_ids) else None


# --------------------------------------------------------------------------- the statements


def _most_covered(ev: Evidence) -> Sentence | None:
    """Which developments drew the most outlets (two at least), citing each outlet's item."""
    stories = sorted(ev.stories[:MAX_DEVELOPMENTS], key=lambda s: -len(set(s.outlets)))
    top = [s for s in stories if len(set(s.outlets)) >= 2][:MOST_COVERED]
    if not top:
        return None
    first, rest = top[0], top[1:]
    text = (
        f"{_title(ev, first)} drew the most coverage {_this(ev)}: "
        f"{_count(len(set(first.outlets)), 'outlet')} in {_count(len(first.item_ids), 'item')}"
    )
    if rest:
        followers = (f"{_title(ev, s)} ({_count(len(set(s.outlets)), 'outlet')})" for s in rest)
        text += ", followed by " + _and(followers)
    by_outlet: dict[str, int] = {}
    for item_id in first.item_ids:
        by_outlet.setdefault(ev.items[item_id].source, item_id)
    ids = [*by_outlet.values(), *(s.canonical_id for s in rest)]
    return _statement(text + ".", ids)


def _continuing(ev: Evidence) -> Sentence | None:
    """Which developments continue from the weeks before (what they were then), which are new."""
    stories = ev.stories[:MAX_DEVELOPMENTS]
    going = [s for s in stories if s.status != "new"]
    new = [s for s in stories if s.status == "new"]
    if not going:
        if not ev.previous or not stories:
            return None
        items = _count(len(ev.previous), "relevant item")
        text = (
            f"None of {_this(ev)}'s developments continues a story of the {ev.previous_weeks} weeks "
            f"before in the store ({items})."
        )
        return _statement(text, [s.canonical_id for s in stories[:NEW_LISTED]])
    parts = []
    for story in going:
        before = previous_development(story, ev.previous_report)
        if before is not None:
            then = len({ref.source for ref in before.sources}) or len(set(before.item_ids))
            was = f"last {_unit(ev)}'s “{before.title.text}”"
            counts = f"{_count(len(set(story.outlets)), 'outlet')} now, {then} then"
        else:
            title, _, day = (story.previous or "").rpartition(" (")
            was = f"“{title}” of {day.rstrip(')')}" if title else "earlier reporting"
            counts = f"{_count(len(set(story.outlets)), 'outlet')} now"
        escalating = ", escalating" if story.status == "escalating" else ""
        parts.append(f"{_title(ev, story)} (after {was}; {counts}{escalating})")
    text = f"Continuing from the weeks before: {_and(parts)}."
    if new:
        shown = [_title(ev, s) for s in new[:NEW_LISTED]]
        if len(new) > NEW_LISTED:
            shown.append(f"{len(new) - NEW_LISTED} more")
        text += f" New {_this(ev)}: {_and(shown)}."
    return _statement(text, [s.canonical_id for s in going + new[:NEW_LISTED]])


def _buckets_moved(ev: Evidence) -> Sentence | None:
    """Items by primary bucket against the period before (the annex and coverage count them)."""
    before = last_period(ev)
    if not before:
        return None
    now, then = Counter(_primary(i) for i in ev.items.values()), Counter(_primary(i) for i in before)
    moves: dict[str, list[str]] = {"rose": [], "fell": [], "held": []}
    ids = []
    for bucket in BUCKETS:
        n, m = now[bucket], then[bucket]
        if n == 0 and m == 0:
            continue
        way = "rose" if n > m else "fell" if n < m else "held"
        moves[way].append(f"{_BUCKET_NAMES[bucket]} ({_count(n, 'item')}, {m} {_before(ev)})")
        lead = next((s.canonical_id for s in ev.stories if s.buckets[:1] == [bucket]), None)
        if lead is not None and n:
            ids.append(lead)
    clauses = [f"{way} on {_and(what)}" for way, what in moves.items() if what]
    held = f"{len(before)} relevant item{'s' if len(before) != 1 else ''} in the store"
    return _statement(f"Against the {_unit(ev)} before ({held}), reporting {_and(clauses)}.", ids)


def _counterparts_moved(ev: Evidence) -> Sentence | None:
    """Items naming each counterpart against the period before, where the count moved."""
    before = last_period(ev)
    counterparts = ev.profile.counterparts
    if not before or not counterparts:
        return None
    matcher = TermMatcher(
        (t, key, 1.0) for key, cp in counterparts.items() for ts in cp.terms.values() for t in ts
    )
    now_named = {i.id: _named(matcher, i) for i in ev.items.values()}
    now = Counter(k for ks in now_named.values() for k in ks)
    then = Counter(k for i in before for k in _named(matcher, i))
    more: list[str] = []
    fewer: list[str] = []
    ids: list[int] = []
    order = _story_order(ev)
    for key, cp in counterparts.items():
        n, m = now[key], then[key]
        if n == m:
            continue
        (more if n > m else fewer).append(f"{cp.label} ({n}, from {m})")
        naming = sorted((i for i, ks in now_named.items() if key in ks), key=order)
        if naming:
            ids.append(naming[0])
    if not ids:
        return None
    clauses = []
    if more:
        clauses.append(f"more items named {_and(more)}")
    if fewer:
        clauses.append(f"fewer named {_and(fewer)}")
    return _statement(f"Against the {_unit(ev)} before, {_and(clauses)}.", ids)


def _indicators_moved(ev: Evidence) -> Sentence | None:
    """Where the indicators of last period's report went: items naming each, then and now."""
    report = ev.previous_report
    if report is None:
        return None
    terms = [line.partition(": ")[0] for line in report.sections.outlook.indicators if ": " in line]
    terms = list(dict.fromkeys(t for t in terms if t))[:MAX_INDICATORS]
    if not terms:
        return None
    matcher = TermMatcher((t, t, 1.0) for t in terms)
    order = _story_order(ev)
    now_named = {i.id: _named(matcher, i) for i in sorted(ev.items.values(), key=lambda i: order(i.id))}
    then = Counter(t for i in last_period(ev) for t in _named(matcher, i))
    parts, ids = [], []
    for term in terms:
        naming = [i for i, ts in now_named.items() if term in ts]
        n, m = len(naming), then[term]
        if n > m:
            parts.append(f"{term} rose to {_count(n, 'item')} from {m}")
        elif n < m:
            gone = f"{term} ({_count(m, 'item')}) is no longer named"
            parts.append(f"{term} fell to {_count(n, 'item')} from {m}" if n else gone)
        else:
            parts.append(f"{term} held at {_count(n, 'item')}")
        if naming:
            ids.append(naming[0])
    if not ids:
        return None
    return _statement(f"Of last {_unit(ev)}'s indicators, {_and(parts)}.", ids)


# --------------------------------------------------------------------------- helpers


def last_period(ev: Evidence) -> list[Item]:
    """The relevant items of the period just before this one, of the same length."""
    lo = datetime.combine(ev.start, time(0), tzinfo=ev.zone)
    start = lo - timedelta(days=(ev.end - ev.start).days + 1)
    return [i for i in ev.previous if start <= i.published < lo]


def _statement(text: str, item_ids: Iterable[int]) -> Sentence | None:
    ids = list(dict.fromkeys(item_ids))
    return Sentence(text=text, item_ids=ids, kind="computed") if ids else None


def _title(ev: Evidence, story: Story) -> str:
    item, language = headline_item(story, ev.items)
    title = item.title.strip()
    return f"“{title}”" + (f" (in {language})" if language else "")


def _primary(item: Item) -> str | None:
    c = item.classification
    return c.buckets[0] if c and c.buckets else None


def _named(matcher: TermMatcher, item: Item) -> set[str]:
    return {h.category for h in matcher.find(f"{item.title}\n{item.text}")}


def _story_order(ev: Evidence) -> Callable[[int], tuple[int, int]]:
    """A sort key putting items in story order (most important story first, then within it)."""
    rank = {i: (k, n) for k, s in enumerate(ev.stories) for n, i in enumerate(s.item_ids)}
    return lambda item_id: rank.get(item_id, (len(rank), item_id))


def _unit(ev: Evidence) -> str:
    days = (ev.end - ev.start).days + 1
    return "week" if days == 7 else "period"


def _this(ev: Evidence) -> str:
    return f"this {_unit(ev)}"


def _count(n: int, noun: str) -> str:
    """``1 item``, ``2 items``: a computed statement reads as written English."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _before(ev: Evidence) -> str:
    return f"the {_unit(ev)} before"


def _and(parts: Iterable[str]) -> str:
    items: Sequence[str] = list(parts)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
