"""Turn a verified draft into the :class:`Report`: annex numbering, items, coverage.

The annex lists each cited article once, grouped by its primary bucket, numbered in
that order; every ``[n]`` in the report is that number. Numbering happens only here,
after verification, so no engine can cite an annex entry that does not exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from ..models import (
    BUCKETS,
    AnnexEntry,
    Bucket,
    Coverage,
    Draft,
    Evidence,
    FeedCoverage,
    Item,
    Period,
    Report,
    ReportItem,
    Sections,
    Sentence,
    SourceRef,
    SourceState,
    SourceStatus,
)
from ..stats import Stats


def _primary(item: Item) -> Bucket | None:
    c = item.classification
    return c.buckets[0] if c and c.buckets else None


def _all_sentences(draft: Draft) -> Iterable[Sentence]:
    yield from draft.executive
    for dev in draft.developments:
        yield dev.title
        yield from dev.sentences
    for block in (*draft.geopolitical, *draft.military):
        yield from block.sentences
    for event in draft.outlook.calendar:
        yield event.sentence
    yield from draft.outlook.flashpoints
    yield from draft.outlook.recommendations


def source_coverage(
    states: Mapping[str, SourceState], period: Iterable[Item], relevant: Iterable[Item]
) -> list[FeedCoverage]:
    """The coverage section's sources, from the store alone (not from a feeds file).

    Every source of the last collect's feeds file, with its health (``new`` if it was
    never fetched, ``disabled``), and every source since removed from it that gave
    items dated in the period (``removed``), with the grade it was last collected under.
    """
    relevant_from = Counter(i.source for i in relevant)
    period_from = {i.source for i in period}
    out = []
    for state in states.values():
        if not state.configured and state.name not in period_from:
            continue
        status: SourceStatus = (
            "removed" if not state.configured else "disabled" if not state.enabled else state.status
        )
        out.append(
            FeedCoverage(
                name=state.name,
                url=state.url,
                status=status,
                last_error=state.last_error,
                items=relevant_from[state.name],
                reliability=state.reliability,
            )
        )
    return out


def domain_of(url: str) -> str:
    host = urlsplit(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def assemble_report(
    draft: Draft,
    ev: Evidence,
    *,
    engine: str,
    generated_at: datetime,
    feeds: list[FeedCoverage],
    stats: Stats,
    considered: int,
) -> Report:
    cited: list[int] = []
    for sentence in _all_sentences(draft):
        for item_id in sentence.item_ids:
            if item_id not in cited:
                cited.append(item_id)
    order = {b: i for i, b in enumerate(BUCKETS)}

    def annex_key(item_id: int) -> tuple[int, datetime, str, int]:
        item = ev.items[item_id]
        p = _primary(item)
        return (order[p] if p else len(order), item.published, item.title, item_id)

    numbers: dict[int, int] = {}
    annex: list[AnnexEntry] = []
    for n, item_id in enumerate(sorted(cited, key=annex_key), start=1):
        item = ev.items[item_id]
        numbers[item_id] = n
        annex.append(
            AnnexEntry(
                number=n,
                item_id=item_id,
                title=item.title,
                url=item.url,
                source=item.source,
                domain=domain_of(item.url),
                published=item.published,
                reliability=item.reliability,
                bucket=_primary(item),
            )
        )
    for sentence in _all_sentences(draft):
        sentence.citations = sorted({numbers[i] for i in sentence.item_ids})
    by_item = {a.item_id: a for a in annex}
    for dev in draft.developments:
        cited_ids = dict.fromkeys([*dev.title.item_ids, *(i for s in dev.sentences for i in s.item_ids)])
        dev.sources = [
            SourceRef(
                citation=by_item[i].number,
                url=by_item[i].url,
                title=by_item[i].title,
                source=by_item[i].source,
                published=by_item[i].published,
            )
            for i in cited_ids
        ]

    story_of: dict[int, str] = {}
    copy_of: dict[int, int] = {}
    for story in ev.stories:
        for item_id in story.item_ids:
            story_of[item_id] = story.id
        copy_of.update(story.copies)
    items = sorted(ev.items.values(), key=lambda i: (i.published, i.id))
    report_items = [
        ReportItem(
            item_id=i.id,
            url=i.url,
            title=i.title,
            source=i.source,
            domain=domain_of(i.url),
            published=i.published,
            buckets=list(i.classification.buckets) if i.classification else [],
            primary_bucket=_primary(i),
            cluster=story_of.get(i.id, ""),
            copy_of=ev.items[copy_of[i.id]].url if i.id in copy_of else None,
            relevance=i.classification.relevance if i.classification else 0.0,
            evidence=i.classification.evidence if i.classification else {},
        )
        for i in items
    ]
    by_bucket: Counter[str] = Counter({b: 0 for b in BUCKETS})
    for i in items:
        p = _primary(i)
        if p:
            by_bucket[p] += 1
    coverage = Coverage(
        items=len(items),
        outlets=len({i.source for i in items}),
        by_bucket=dict(by_bucket),
        feeds=feeds,
        considered=considered,
        irrelevant=considered - len(items),
        stories=len(ev.stories),
        sentences_checked=stats.count("verify/checked"),
        sentences_dropped=stats.count("verify/dropped"),
        dropped_by_reason={k: v for k, v in stats.under("verify/dropped").items() if isinstance(v, int)},
    )
    profile = ev.profile
    return Report(
        title=profile.report_title,
        region=profile.name,
        slug=profile.slug,
        period=Period(start=ev.start, end=ev.end),
        generated_at=generated_at,
        engine=engine,
        model=draft.model,
        executive_summary_sentences=draft.executive,
        developments=draft.developments,
        sections=Sections(
            geopolitical_blocks=draft.geopolitical, military_blocks=draft.military, outlook=draft.outlook
        ),
        annex=annex,
        items=report_items,
        coverage=coverage,
        notes=draft.notes,
    )
