"""The analyst's corrections to a period's draft: an editorial layer applied over the store. Pure.

Collected items are never changed. A correction is a small record (an :data:`Op`) kept
in the store beside the items; building a report applies the live ones in the order
they were made, at two points of the report job:

- before analysis, :func:`adjust_evidence` drops excluded items and stories, merges
  stories, moves items between stories and sets a story's primary bucket;
- after verification, before citations are numbered, :func:`adjust_draft` renames,
  orders, pins and drops developments, replaces edited sentences and adds the analyst's
  assessments, so the annex numbering covers what the analyst added.

Every op names items by their URL, never by a story number or a development's place
in the list: stories are rebuilt by every clustering, and a later ``osint collect`` can
reorder them, but an item's URL does not change. An op whose items are no longer in the
period does nothing (and :func:`adjust_evidence` says so in its notes). An op on a
development names the one that held its item when the op was made: excluding or moving
that item afterwards (its headline item, say) leaves the op with the story it was made for,
and when two stories are merged the latest op on either applies to the one they become.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from .edits import (
    EVIDENCE_OPS,
    AddAssessment,
    DropDevelopment,
    Edit,
    EditSentence,
    ExcludeItem,
    ExcludeStory,
    MergeStories,
    MoveDevelopment,
    MoveItem,
    PinDevelopment,
    RenameDevelopment,
    Section,
    SetBucket,
)
from .models import Bucket, Development, Draft, Item, Outlook, SectionBlock, Sentence, Story

ASSESSMENT_HEADING = "Analyst's assessment"


MakeStory = Callable[[Sequence[Item], dict[int, int]], Story]
"""Builds a story from its members and their copy links (the clustering's own scoring)."""

Check = Callable[[Sentence], str | None]
"""Verification of one sentence against its cited items: None when supported, else why not."""


@dataclass
class Applied:
    """What applying the layer did: ops that found nothing to act on, and flagged text."""

    notes: list[str] = field(default_factory=list)
    flagged: dict[int, str] = field(default_factory=dict)
    """Edit id -> why verification did not support its text (kept because confirmed)."""
    left: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """URL of an item excluded or moved -> (the edit that took it out, the story it left, as
    that story is now named; "" when nothing of it is left), in order. An edit names the
    development that held its item when the edit was made: a rename made before its
    headline item was excluded or moved elsewhere stays with the story it was made for."""

    def story_named(self, url: str, edit_id: int, now: str | None) -> str | None:
        """The story an edit naming ``url`` meant: the one the item left after the edit
        was made, else where it is ``now``, else (excluded) the last story it left; ""
        when that story is gone, None when the item was never in one."""
        moves = self.left.get(url, [])
        then = next((sid for when, sid in moves if when > edit_id), None)
        if then is not None:
            return then
        if now is not None:
            return now
        return moves[-1][1] if moves else None


# --------------------------------------------------------------------------- before analysis


def adjust_evidence(
    items: dict[int, Item],
    stories: Sequence[Story],
    edits: Iterable[Edit],
    make_story: MakeStory,
    applied: Applied | None = None,
) -> tuple[dict[int, Item], list[Story]]:
    """The period's relevant items and stories with the evidence ops applied, in order."""
    applied = applied if applied is not None else Applied()
    by_url = {i.url: i.id for i in items.values()}
    groups: dict[str, list[int]] = {s.id: list(s.item_ids) for s in stories}
    meta = {s.id: s for s in stories}
    primary: dict[str, Bucket] = {}
    left: dict[str, list[tuple[int, str]]] = {}  # an item's URL -> (edit, the story it left)
    kept = dict(items)

    def story_of(url: str) -> str | None:
        item_id = by_url.get(url)
        if item_id is None or item_id not in kept:
            return None
        return next((sid for sid, ids in groups.items() if item_id in ids), None)

    for edit in edits:
        op = edit.op
        if not isinstance(op, ExcludeItem | ExcludeStory | MergeStories | MoveItem | SetBucket):
            continue
        sid = story_of(op.url)
        if sid is None:
            applied.notes.append(f"edit {edit.id} ({op.op}): {op.url} is not in this period's items")
            continue
        if isinstance(op, ExcludeItem):
            item_id = by_url[op.url]
            groups[sid].remove(item_id)
            kept.pop(item_id)
            left.setdefault(op.url, []).append((edit.id, sid))
        elif isinstance(op, ExcludeStory):
            for item_id in groups.pop(sid):
                kept.pop(item_id, None)
        elif isinstance(op, MergeStories | MoveItem):
            target = story_of(op.into if isinstance(op, MergeStories) else op.to)
            if target is None or target == sid:
                applied.notes.append(f"edit {edit.id} ({op.op}): no other story to move into")
                continue
            moving = groups.pop(sid) if isinstance(op, MergeStories) else [by_url[op.url]]
            if isinstance(op, MoveItem):
                groups[sid].remove(by_url[op.url])
                left.setdefault(op.url, []).append((edit.id, sid))
            else:  # what items left is now part of target
                left = {u: [(e, target if s == sid else s) for e, s in out] for u, out in left.items()}
            groups[target].extend(moving)
        elif isinstance(op, SetBucket):
            primary[sid] = op.bucket
    out: list[Story] = []
    now_named: dict[str, str] = {}  # a story's id before the edits -> after (members changed)
    for sid, ids in groups.items():
        if not ids:
            continue
        old = meta[sid]
        now_named[sid] = sid
        if ids == old.item_ids and sid not in primary:
            out.append(old)
            continue
        members = [kept[i] for i in ids]
        copies = {c: o for c, o in old.copies.items() if c in ids and o in ids}
        for other in meta.values():  # copies that came with a merged or moved item
            copies.update({c: o for c, o in other.copies.items() if c in ids and o in ids})
        story = make_story(members, copies)
        story = story.model_copy(update={"status": old.status, "previous": old.previous})
        if sid in primary:
            story = story.model_copy(update={"buckets": _first(primary[sid], story.buckets)})
        now_named[sid] = story.id
        out.append(story)
    for url, moves in left.items():
        applied.left[url] = [(e, now_named.get(sid, "")) for e, sid in moves]
    out.sort(key=lambda s: (-s.score, s.first_seen, s.id))
    return kept, out


def _first(bucket: Bucket, buckets: Sequence[Bucket]) -> list[Bucket]:
    return [bucket, *(b for b in buckets if b != bucket)]


# --------------------------------------------------------------------------- after verification


def development_url(dev: Development, stories: dict[str, Story], items: dict[int, Item]) -> str:
    """The URL that names a development in edits: its story's canonical item."""
    story = stories.get(dev.story_id)
    item_id = story.canonical_id if story else (dev.item_ids[0] if dev.item_ids else None)
    return items[item_id].url if item_id in items else ""


def adjust_draft(
    draft: Draft,
    items: dict[int, Item],
    stories: Sequence[Story],
    edits: Iterable[Edit],
    check: Check,
    applied: Applied | None = None,
) -> Draft:
    """The verified draft with the analyst's wording, order and assessments.

    Edited text is checked again (``check``): unsupported text stays only when the
    analyst confirmed it, and is listed in ``applied.flagged``.
    """
    applied = applied if applied is not None else Applied()
    by_story = {s.id: s for s in stories}
    by_url = {i.url: i.id for i in items.values()}
    devs = list(draft.developments)
    key = {id(d): development_url(d, by_story, items) for d in devs}
    url_of_story = {
        items[i].url: s.id for s in stories for i in s.item_ids if i in items
    }  # any member's URL names its story's development
    executive = list(draft.executive)
    geopolitical = [b.model_copy(deep=True) for b in draft.geopolitical]
    military = [b.model_copy(deep=True) for b in draft.military]
    outlook = draft.outlook.model_copy(deep=True)
    pinned: list[str] = []

    def dev_index(url: str, edit_id: int) -> int | None:
        sid = applied.story_named(url, edit_id, url_of_story.get(url))
        if sid is None:  # not an item of any story: maybe a development's own name
            return next((k for k, d in enumerate(devs) if key[id(d)] == url), None)
        return next((k for k, d in enumerate(devs) if d.story_id == sid), None)

    for edit in edits:
        op = edit.op
        if op.op in EVIDENCE_OPS:
            continue
        if isinstance(op, EditSentence):
            parts = draft_parts(executive, devs, geopolitical, military, outlook)
            if not _replace_sentence(parts, op, partial(_supported, applied, edit, check)):
                applied.notes.append(f"edit {edit.id}: the sentence it changes is not in the draft")
            continue
        if isinstance(op, AddAssessment):
            ids = [by_url[u] for u in op.urls if u in by_url]
            sentence = Sentence(text=op.text, item_ids=ids, kind="assessment", author=edit.author)
            if not ids or _supported(applied, edit, check, sentence):
                _add_assessment(op.section, sentence, executive, geopolitical, military, outlook)
            continue
        assert isinstance(op, RenameDevelopment | MoveDevelopment | PinDevelopment | DropDevelopment)
        k = dev_index(op.url, edit.id)
        if k is None:
            applied.notes.append(f"edit {edit.id} ({op.op}): no development holds {op.url}")
            continue
        dev = devs[k]
        if isinstance(op, RenameDevelopment):
            title = dev.title.model_copy(update={"text": op.title})
            if _supported(applied, edit, check, title):
                devs[k] = dev.model_copy(update={"title": title})
                key[id(devs[k])] = key[id(dev)]
        elif isinstance(op, MoveDevelopment):
            devs.insert(min(op.position, len(devs) - 1), devs.pop(k))
        elif isinstance(op, PinDevelopment):
            name = key[id(dev)]
            if name in pinned:
                pinned.remove(name)
            if op.pinned:
                pinned.append(name)
        else:
            devs.pop(k)
    order = {name: n for n, name in enumerate(pinned)}
    devs.sort(key=lambda d: order.get(key[id(d)], len(order)))  # stable: unpinned keep their order
    return Draft(
        executive=executive,
        developments=devs,
        geopolitical=geopolitical,
        military=military,
        outlook=outlook,
        notes=list(draft.notes),
        model=draft.model,
    )


def draft_parts(
    executive: list[Sentence],
    devs: list[Development],
    geopolitical: list[SectionBlock],
    military: list[SectionBlock],
    outlook: Outlook,
) -> list[list[Sentence]]:
    """Every list of sentences of a draft, in reading order (development titles apart)."""
    return [
        executive,
        *(d.sentences for d in devs),
        *(b.sentences for b in geopolitical),
        *(b.sentences for b in military),
        outlook.flashpoints,
        outlook.recommendations,
    ]


def _replace_sentence(
    parts: list[list[Sentence]], op: EditSentence, supported: Callable[[Sentence], bool]
) -> bool:
    """Replace every sentence reading ``op.original``; whether there was one."""
    found = False
    for sentences in parts:
        for k, s in enumerate(sentences):
            if s.text == op.original:
                found = True
                new = s.reworded(op.text)
                if supported(new):
                    sentences[k] = new
    return found


def _supported(applied: Applied, edit: Edit, check: Check, sentence: Sentence) -> bool:
    """Whether edited text may stand: its sources support it, or the analyst confirmed it."""
    why = check(sentence)
    if why is None:
        return True
    applied.flagged[edit.id] = why
    confirmed = bool(getattr(edit.op, "confirmed", False))
    if not confirmed:
        applied.notes.append(f"edit {edit.id} left out: {why} (not confirmed)")
    return confirmed


def _add_assessment(
    section: Section,
    sentence: Sentence,
    executive: list[Sentence],
    geopolitical: list[SectionBlock],
    military: list[SectionBlock],
    outlook: Outlook,
) -> None:
    if section == "executive_summary":
        executive.append(sentence)
    elif section == "outlook":
        outlook.recommendations.append(sentence)
    else:
        blocks = geopolitical if section == "geopolitical" else military
        if not blocks or blocks[-1].heading != ASSESSMENT_HEADING:
            blocks.append(SectionBlock(heading=ASSESSMENT_HEADING, sentences=[]))
        blocks[-1].sentences.append(sentence)
