"""Week over week: is a development new, continuing from the weeks before, or escalating?

A question apart from story clustering: clustering asks "is this the same report?"
within days; continuity asks "did we already follow this development?" across weeks,
when the words have moved on but the subject has not. So each story of the period is
compared, as one TF-IDF vector of its titles and leads, with each item of the weeks
before. A close enough match makes it *continuing*; *escalating* when it is also
reported now by more outlets, or by at least twice as many items, as before.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from .models import Item, Story
from .text import content_words, dot, tfidf, tokenize

CONTINUITY_THRESHOLD = 0.35
TOP_TERMS = 10
MAX_ITEMS = 12
LEAD_WORDS = 80


def _bag(items: Sequence[Item]) -> Counter[str]:
    bag: Counter[str] = Counter()
    for item in items:
        lead = " ".join(tokenize(item.text)[:LEAD_WORDS])
        words = content_words(item.title) * 2 + content_words(lead)
        bag.update(w for w in words if len(w) > 2)
    return bag


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
    vectors = tfidf([*now_bags, *old_bags])
    now_vecs, old_vecs = vectors[: len(now_bags)], vectors[len(now_bags) :]
    index: dict[str, list[int]] = defaultdict(list)
    for k, vec in enumerate(old_vecs):
        for w in _top(vec):
            index[w].append(k)
    linked = []
    for story, vec in zip(stories, now_vecs, strict=True):
        candidates = sorted({k for w in _top(vec) for k in index.get(w, ())})
        close = []
        for k in candidates:
            sim = dot(vec, old_vecs[k])
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
                    "previous_ids": [i.id for i in before],
                }
            )
        )
    return linked


def _top(vec: dict[str, float]) -> list[str]:
    return [w for w, _v in sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TERMS]]
