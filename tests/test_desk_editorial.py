"""The editorial layer keyed to items, not to story numbers: the same edits over two clusterings.

A re-clustering (new items, a retuned clusterer, another profile) regroups a period's
items and gives every story a new id; edits name items by URL, so they still do what the
analyst meant. Pure functions of :mod:`osint.editorial` over real stories
(:func:`osint.cluster.story_from`, the desk's own story builder).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from osint.cluster import story_from
from osint.editorial import Applied, adjust_draft, adjust_evidence
from osint.edits import (
    Edit,
    ExcludeItem,
    MergeStories,
    MoveItem,
    Op,
    PinDevelopment,
    RenameDevelopment,
    SetBucket,
)
from osint.models import Classification, Development, Draft, Item, Outlook, Sentence, Story

T0 = datetime(2026, 3, 9, 8, tzinfo=UTC)


def _item(n: int) -> Item:
    return Item(
        id=n,
        url=f"https://news.example/{n}",
        source=f"Outlet {n}",
        title=f"Item {n}",
        text=f"Text of item {n}.",
        published=T0 + timedelta(hours=n),
        first_seen=T0 + timedelta(hours=n),
        reliability="B",
        classification=Classification(
            relevant=True, relevance=0.9, buckets=["security" if n % 2 else "defense"]
        ),
    )


ITEMS = {n: _item(n) for n in range(1, 8)}


def _stories(groups: list[list[int]]) -> list[Story]:
    return [story_from([ITEMS[i] for i in g], {}) for g in groups]


FIRST = _stories([[1, 2], [3, 4], [5, 6], [7]])
RECLUSTERED = _stories([[1, 2, 3], [4], [5], [6, 7]])  # the same items, grouped and numbered anew


def _edits(*ops: Op) -> list[Edit]:
    return [Edit(id=k, op=op, author="analyst", at=T0) for k, op in enumerate(ops, 1)]


def url(n: int) -> str:
    return ITEMS[n].url


EVIDENCE_EDITS = _edits(
    ExcludeItem(url=url(2), reason="a copy"),
    MergeStories(url=url(5), into=url(1)),
    MoveItem(url=url(4), to=url(7)),
    SetBucket(url=url(1), bucket="economy"),
)


def _story_holding(stories: list[Story], n: int) -> Story:
    return next(s for s in stories if n in s.item_ids)


def test_evidence_edits_mean_the_same_after_a_reclustering() -> None:
    for stories in (FIRST, RECLUSTERED):
        kept, out = adjust_evidence(ITEMS, stories, EVIDENCE_EDITS, story_from, Applied())
        assert 2 not in kept and all(2 not in s.item_ids for s in out)
        assert _story_holding(out, 5) is _story_holding(out, 1)
        assert _story_holding(out, 4) is _story_holding(out, 7)
        assert _story_holding(out, 1).buckets[0] == "economy"
    # the story ids differ between the clusterings, and are not what the edits name
    assert {s.id for s in FIRST} != {s.id for s in RECLUSTERED}


def test_an_edit_whose_item_left_the_period_says_so_and_does_nothing() -> None:
    applied = Applied()
    fewer = {k: v for k, v in ITEMS.items() if k != 5}
    _, out = adjust_evidence(fewer, _stories([[1, 2], [3, 4], [6, 7]]), EVIDENCE_EDITS, story_from, applied)
    assert any("edit 2" in n and url(5) in n for n in applied.notes)
    assert sorted(i for s in out for i in s.item_ids) == [1, 3, 4, 6, 7]


def _draft(stories: list[Story]) -> Draft:
    devs = [
        Development(
            title=Sentence(text=f"Headline of {s.id}", item_ids=[s.canonical_id]),
            sentences=[Sentence(text=f"Text of item {s.canonical_id}.", item_ids=[s.canonical_id])],
            buckets=s.buckets,
            item_ids=s.item_ids,
            story_id=s.id,
            score=s.score,
        )
        for s in stories
    ]
    return Draft(executive=[], developments=devs, geopolitical=[], military=[], outlook=Outlook())


def test_draft_edits_follow_the_items_after_a_reclustering() -> None:
    edits = _edits(
        RenameDevelopment(url=url(2), title="Renamed by the analyst"),
        PinDevelopment(url=url(6), pinned=True),
    )
    for stories in (FIRST, RECLUSTERED):
        draft = adjust_draft(_draft(stories), ITEMS, stories, edits, lambda s: None, Applied())
        top = draft.developments[0]
        assert 6 in top.item_ids, "the development holding item 6 is pinned first"
        renamed = [d for d in draft.developments if d.title.text == "Renamed by the analyst"]
        assert len(renamed) == 1 and 2 in renamed[0].item_ids


def test_a_development_named_by_an_item_since_excluded_is_still_found() -> None:
    """The desk names a development by its headline item; excluding that item (in the same
    batch or later, before or after a merge) must not lose the rename or the pin."""
    edits = _edits(
        ExcludeItem(url=url(3), reason="a copy"),  # item 3 leads the story {3, 4}
        MergeStories(url=url(4), into=url(1)),
        RenameDevelopment(url=url(3), title="Renamed after its headline item left"),
        PinDevelopment(url=url(3), pinned=True),
    )
    applied = Applied()
    kept, stories = adjust_evidence(ITEMS, FIRST, edits, story_from, applied)
    draft = adjust_draft(_draft(stories), kept, stories, edits, lambda s: None, applied)
    top = draft.developments[0]
    assert top.title.text == "Renamed after its headline item left"
    assert 4 in top.item_ids and 1 in top.item_ids and 3 not in top.item_ids
    assert not [n for n in applied.notes if "no development" in n]


def test_a_rename_survives_the_later_exclusion_of_its_headline_item() -> None:
    """Renamed first, then its headline item excluded: the story that remains keeps the
    analyst's headline (the edit names the development by the item that has since left)."""
    edits = _edits(
        RenameDevelopment(url=url(3), title="The analyst's headline"),  # item 3 leads the story {3, 4}
        ExcludeItem(url=url(3), reason="a copy"),
    )
    applied = Applied()
    kept, stories = adjust_evidence(ITEMS, FIRST, edits, story_from, applied)
    draft = adjust_draft(_draft(stories), kept, stories, edits, lambda s: None, applied)
    renamed = [d for d in draft.developments if d.title.text == "The analyst's headline"]
    assert [d.item_ids for d in renamed] == [[4]]
    assert not applied.notes


def test_a_renamed_story_merged_with_another_takes_the_latest_rename() -> None:
    """Two developments merged are one: the analyst's latest headline for either of them
    heads it, whichever way the merge went and whether it came before or after the renames."""
    merges = (MergeStories(url=url(3), into=url(1)), MergeStories(url=url(1), into=url(3)))
    for merge in merges:
        for renamed_first in (True, False):
            renames = (
                RenameDevelopment(url=url(1), title="Headline of one"),
                RenameDevelopment(url=url(3), title="Headline of three"),
            )
            edits = _edits(*renames, merge) if renamed_first else _edits(merge, *renames)
            applied = Applied()
            kept, stories = adjust_evidence(ITEMS, FIRST, edits, story_from, applied)
            draft = adjust_draft(_draft(stories), kept, stories, edits, lambda s: None, applied)
            merged = _dev_holding(draft, 1)
            assert sorted(merged.item_ids) == [1, 2, 3, 4] and merged is _dev_holding(draft, 3)
            assert merged.title.text == "Headline of three", (merge, renamed_first)
            assert len(draft.developments) == 3 and not applied.notes
    # only one of them renamed: its headline heads the merged development, either way, and
    # still when its headline item is excluded before the merge, after it, or after the rename
    for merge in (MergeStories(url=url(4), into=url(1)), MergeStories(url=url(1), into=url(4))):
        steps: list[Op] = [RenameDevelopment(url=url(3), title="Headline of three"), merge]
        for place in (None, 0, 1, 2):
            ops = (
                list(steps)
                if place is None
                else [*steps[:place], ExcludeItem(url=url(3), reason="x"), *steps[place:]]
            )
            edits = _edits(*ops)
            applied = Applied()
            kept, stories = adjust_evidence(ITEMS, FIRST, edits, story_from, applied)
            draft = adjust_draft(_draft(stories), kept, stories, edits, lambda s: None, applied)
            merged = _dev_holding(draft, 1)
            assert sorted(merged.item_ids) == ([1, 2, 3, 4] if place is None else [1, 2, 4]), (merge, place)
            assert merged.title.text == "Headline of three", (merge, place)
            assert not applied.notes, applied.notes


def _dev_holding(draft: Draft, n: int) -> Development:
    return next(d for d in draft.developments if n in d.item_ids)


def test_an_edit_stays_with_the_story_its_item_was_in_when_it_was_made() -> None:
    """Renamed, then its headline item moved to another story: the headline stays with the
    story it was written for; an edit made after the move names the item's new story."""

    def developments(*ops: Op) -> tuple[list[tuple[list[int], str]], list[str]]:
        edits, applied = _edits(*ops), Applied()
        kept, stories = adjust_evidence(ITEMS, FIRST, edits, story_from, applied)
        draft = adjust_draft(_draft(stories), kept, stories, edits, lambda s: None, applied)
        return [(sorted(d.item_ids), d.title.text) for d in draft.developments], applied.notes

    rename = RenameDevelopment(url=url(3), title="The analyst's headline")  # item 3 leads {3, 4}
    away, back = MoveItem(url=url(3), to=url(7)), MoveItem(url=url(3), to=url(4))
    devs, notes = developments(rename, away)
    assert ([4], "The analyst's headline") in devs and not notes
    devs, _ = developments(away, rename)
    assert ([3, 7], "The analyst's headline") in devs
    # moved away and back: the edit made in between meant the story the item was visiting
    devs, _ = developments(away, RenameDevelopment(url=url(3), title="While it was away"), back)
    assert ([7], "While it was away") in devs
    # the story the edit was made for is gone (its one item moved out): the edit says so
    devs, notes = developments(RenameDevelopment(url=url(7), title="Gone"), MoveItem(url=url(7), to=url(1)))
    assert "Gone" not in [t for _, t in devs] and any("no development holds" in n for n in notes)
    # pins keep to the same rule
    devs, _ = developments(PinDevelopment(url=url(3), pinned=True), away)
    assert devs[0][0] == [4]
