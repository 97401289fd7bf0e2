"""The report pipeline on a labelled week: what an analyst would see, scored.

The sorting figures (relevance, buckets, stories) say whether items land in the right
place; this says whether the week's *report* keeps what matters. The week's items run
the way a collected week does: items with a stored ``page`` go through extraction and
the feed/page reconciliation of headline and date; every item is classified; the
relevant items of the period become stories, ranked, linked to the week before, and
composed by the extractive engine and verified. Then:

* ``major_in_key_developments``: of the stories labelled ``major``, how many lead a Key
  Development (a development whose items are mostly that story's);
* headline figures: Key Development titles that are an outlet's name, or not in the
  report's language (and not marked with their language);
* calendar lines repeated, and calendar lines citing an item labelled irrelevant;
* sentences said twice in one section (the developments, the geopolitical blocks, the
  military blocks, the flashpoints, the calendar, the summary);
* the summary's computed statements (what drew most coverage, what changed);
* sentences that do not stand alone: a sentence of a paragraph (a development's, a
  section block's, the summary's) or a line (a flashpoint, a calendar entry) that leans
  on the sentence before it in its article ("She stressed…", "The strategy, which
  covers…", "Much of the increase…") without following that sentence;
* page items whose extracted headline or date differs from the label.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from osint.analyse import Evidence, ExtractiveEngine, verify_draft
from osint.analyse.base import Draft
from osint.analyse.sentences import leans_back, quotable
from osint.classify import Classifier
from osint.cluster import build_stories
from osint.history import link_history
from osint.models import Entry, Item, Sentence
from osint.periods import resolve_date

if TYPE_CHECKING:
    from .sorting import Example

ZONE = ZoneInfo("Asia/Ulaanbaatar")
PREVIOUS_WEEKS = 4


def _feed_date(raw: str | None) -> datetime | None:
    """The feed entry's date as the collector reads it (feedparser's own parser)."""
    if not raw:
        return None
    import feedparser

    parsed = feedparser.datetimes._parse_date(raw)
    if not parsed:
        return None
    y, mo, d, h, mi, sec = parsed[:6]
    return datetime(y, mo, d, h, mi, sec, tzinfo=UTC)


def collected(ex: Example) -> tuple[str, datetime]:
    """Headline and date of an example as the collector would store them."""
    if ex.page is None:
        return ex.title, ex.published
    from osint import extract, pagemeta

    page = ex.page
    entry = Entry(
        source=ex.source, url=page["url"], title=page["feed_title"], published=_feed_date(page["feed_date"])
    )
    article = extract.extract_article(page["html"].encode("utf-8"), page["url"], ZONE)
    now = datetime.combine(ex.published.date() + timedelta(days=1), time(12), tzinfo=ZONE)
    article = pagemeta.reconcile(entry, article)
    published, _estimated = resolve_date(article.published, now, now)
    return article.title, published


def _script(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "latin"
    names = Counter(unicodedata.name(c, "?").split(" ")[0] for c in letters)
    top = names.most_common(1)[0][0]
    return "latin" if top == "LATIN" else top.lower()


def not_standing_alone(draft: Draft, items: dict[int, Item]) -> list[Sentence]:
    """Sentences of the draft that lean on one before them and do not follow it.

    Read paragraph by paragraph (a development's sentences, a block's, the summary's; each
    flashpoint and calendar line alone): a sentence that leans back is all right only right
    after the sentence it leans on in its article.
    """
    paragraphs: list[list[Sentence]] = [d.sentences for d in draft.developments]
    paragraphs += [b.sentences for b in (*draft.geopolitical, *draft.military)]
    paragraphs.append(draft.executive)
    paragraphs += [[s] for s in draft.outlook.flashpoints]
    paragraphs += [[e.sentence] for e in draft.outlook.calendar]
    found = []
    for paragraph in paragraphs:
        for k, sentence in enumerate(paragraph):
            if sentence.kind != "fact" or sentence.author:
                continue  # written, not quoted: nothing before it in an article
            before = paragraph[k - 1].text if k else None
            quoted = [
                q
                for i in sentence.item_ids
                if i in items
                for q in quotable(items[i].text)
                if q.text == sentence.text
            ]
            if quoted:
                alone = all(not q.leans_back or q.antecedent == before for q in quoted[:1])
            else:
                alone = not leans_back(sentence.text)
            if not alone:
                found.append(sentence)
    return found


def evaluate_week(
    examples: list[Example], classifier: Classifier, start: date, end: date
) -> tuple[dict[str, Any], list[str]]:
    """Report-level figures of the week ``start``..``end`` (and what went wrong, for reading)."""
    lo = datetime.combine(start, time(0), tzinfo=ZONE)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=ZONE)
    gold_story: dict[int, str] = {}
    gold_relevant: dict[int, bool] = {}
    major_stories = {ex.story for ex in examples if ex.major}
    period: list[Item] = []
    previous: list[Item] = []
    outlets = {ex.source.lower() for ex in examples}
    headline_errors = date_errors = pages = 0
    notes: list[str] = []
    for n, ex in enumerate(examples, start=1):
        title, published = collected(ex)
        if ex.page is not None:
            pages += 1
            if title.strip() != ex.title.strip():
                headline_errors += 1
                notes.append(f"{ex.id} headline {title!r} != {ex.title!r}")
            if published.astimezone(ZONE).date() != ex.published.date():
                date_errors += 1
                notes.append(f"{ex.id} date {published.date()} != {ex.published.date()}")
        when = published if published.tzinfo else published.replace(tzinfo=UTC)
        # A labelled date is a day: file it at noon in the report's zone, as extraction does.
        if ex.page is None:
            when = datetime.combine(ex.published.date(), time(12), tzinfo=ZONE)
        c = classifier.classify(title, ex.text, ex.source_country)
        item = Item(
            id=n,
            url=f"https://week.example/{ex.id}",
            source=ex.source,
            title=title,
            text=ex.text,
            published=when,
            first_seen=when,
            language=ex.language,
            source_country=ex.source_country,
            reliability="B" if ex.source_country == "MN" else "C",
            classification=c,
        )
        gold_story[n] = ex.story
        gold_relevant[n] = ex.relevant
        if not c.relevant:
            continue
        if lo <= when < hi:
            period.append(item)
        elif lo - timedelta(weeks=PREVIOUS_WEEKS) <= when < lo:
            previous.append(item)
    stories = link_history(build_stories(period, classifier.profile), {i.id: i for i in period}, previous)
    ev = Evidence(
        profile=classifier.profile,
        start=start,
        end=end,
        zone=ZONE,
        items={i.id: i for i in period},
        stories=stories,
        previous=previous,
        previous_weeks=PREVIOUS_WEEKS,
    )
    draft, _stats = verify_draft(ExtractiveEngine().compose(ev), ev)
    found: set[str] = set()
    outlet_titles = foreign_titles = 0
    for dev in draft.developments:
        labels = Counter(gold_story[i] for i in dev.item_ids)
        label, _n = labels.most_common(1)[0]
        if label in major_stories:
            found.add(label)
        title = dev.title.text.strip()
        if title.lower() in outlets or any(
            title.lower() == (ev.items[i].site or "").lower() for i in dev.item_ids
        ):
            outlet_titles += 1
            notes.append(f"development headed with an outlet's name: {title!r}")
        if _script(title) != "latin" and not dev.title_language:
            foreign_titles += 1
            notes.append(f"development headed in another language: {title!r}")
    for label in sorted(major_stories - found):
        notes.append(f"major development missing from Key Developments: {label}")
    calendar = draft.outlook.calendar
    texts = Counter(e.sentence.text for e in calendar)
    repeated = sum(n - 1 for n in texts.values() if n > 1)
    irrelevant_lines = sum(1 for e in calendar if any(not gold_relevant[i] for i in e.sentence.item_ids))
    leaning = not_standing_alone(draft, ev.items)
    sections = [
        [s.text for d in draft.developments for s in d.sentences],
        [s.text for b in draft.geopolitical for s in b.sentences],
        [s.text for b in draft.military for s in b.sentences],
        [s.text for s in draft.outlook.flashpoints],
        [e.sentence.text for e in calendar],
        [s.text for s in draft.executive],
    ]
    twice = sum(len(texts) - len(set(texts)) for texts in sections)
    notes += [f"sentence does not stand alone: {s.text[:80]!r}" for s in leaning]
    figures = {
        "period": f"{start}..{end}",
        "period_items": len(period),
        "key_developments": len(draft.developments),
        "major_developments": len(major_stories),
        "major_in_key_developments": len(found),
        "major_share": round(len(found) / len(major_stories), 4) if major_stories else 1.0,
        "titles_outlet_name": outlet_titles,
        "titles_other_language": foreign_titles,
        "calendar_lines": len(calendar),
        "calendar_repeated": repeated,
        "calendar_irrelevant": irrelevant_lines,
        "sentences_not_standing_alone": len(leaning),
        "sentences_twice_in_a_section": twice,
        "summary_computed_statements": sum(1 for s in draft.executive if s.kind == "computed"),
        "page_items": pages,
        "page_headline_errors": headline_errors,
        "page_date_errors": date_errors,
    }
    return figures, notes
