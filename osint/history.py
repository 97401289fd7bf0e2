"""Week over week: is a development new, continuing from the weeks before, or escalating?

A question apart from story clustering: clustering asks "is this the same report?"
within days; continuity asks "did we already follow this development?" across weeks,
when the words have moved on but the subject has not. So each story of the period is
compared, as one TF-IDF vector of its titles and leads, with each item of the weeks
before. A close enough match makes it *continuing*; *escalating* when it is also
reported now by more outlets, or by at least twice as many items, as before.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from .models import Item, Story
from .terms import tokenize

CONTINUITY_THRESHOLD = 0.35
TOP_TERMS = 10
MAX_ITEMS = 12
LEAD_WORDS = 80
_STOP = frozenset(
    """the a an and or of in on at to for from by with as is are was were be been it its this that
    said will has have had not also which who their his her they on over after more than new""".split()
)


def _bag(items: Sequence[Item]) -> Counter[str]:
    bag: Counter[str] = Counter()
    for item in items:
        words = tokenize(item.title) * 2 + tokenize(item.text)[:LEAD_WORDS]
        bag.update(w for w in (t.lower() for t in words) if len(w) > 2 and w not in _STOP)
    return bag


def _unit(bag: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vec = {w: (1 + math.log(c)) * idf.get(w, 0.0) for w, c in bag.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items() if v > 0}


def link_history(
    stories: Sequence[Story],
    items: dict[int, Item],
    previous_items: Sequence[Item],
) -> list[Story]:
    """Copies of ``stories`` with ``status`` and ``previous`` set from the weeks before.

    Each story is compared with the earlier *items* (not their stories, which would cost
    a second clustering): those close to it are the development's past; the closest one
    names it, and their count and outlets tell whether it has grown.
    """
    if not previous_items:
        return list(stories)
    now_bags = [_bag([items[i] for i in s.item_ids[:MAX_ITEMS]]) for s in stories]
    old_bags = [_bag([i]) for i in previous_items]
    df: Counter[str] = Counter()
    for bag in (*now_bags, *old_bags):
        df.update(bag.keys())
    n = len(now_bags) + len(old_bags)
    idf = {w: math.log((1 + n) / (1 + c)) for w, c in df.items()}
    old_vecs = [_unit(b, idf) for b in old_bags]
    index: dict[str, list[int]] = defaultdict(list)
    for k, vec in enumerate(old_vecs):
        for w in _top(vec):
            index[w].append(k)
    linked = []
    for story, bag in zip(stories, now_bags, strict=True):
        vec = _unit(bag, idf)
        candidates = sorted({k for w in _top(vec) for k in index.get(w, ())})
        close = []
        for k in candidates:
            sim = sum(v * old_vecs[k].get(w, 0.0) for w, v in sorted(vec.items()))
            if sim >= CONTINUITY_THRESHOLD:
                close.append((sim, k))
        if not close:
            linked.append(story)
            continue
        close.sort(key=lambda sk: (-sk[0], previous_items[sk[1]].id))
        before = [previous_items[k] for _sim, k in close]
        grew = len(story.outlets) > len({i.source for i in before}) or len(story.item_ids) >= 2 * len(before)
        lead = before[0]
        linked.append(
            story.model_copy(
                update={
                    "status": "escalating" if grew else "continuing",
                    "previous": f"{lead.title} ({lead.published:%Y-%m-%d})",
                }
            )
        )
    return linked


def _top(vec: dict[str, float]) -> list[str]:
    return [w for w, _v in sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TERMS]]
