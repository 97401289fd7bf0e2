"""Fold syndicated copies and group items about the same development into stories. Pure.

Two passes, because they answer different questions:

1. *Copies*: the same wire text re-published with light edits. MinHash over word
   shingles with LSH (datasketch) finds them in linear time; the earliest (then most
   reliable) version is the canonical item and every copy keeps its outlet.
2. *Stories*: different outlets' own articles about one development. Items are linked
   when their TF-IDF vectors of title and lead are close and they fall within a time
   window (in one language; shared names and figures add a little), or, across
   languages, when they share enough rare names and figures; candidate pairs come from
   an inverted index of each item's most distinctive words, so cost grows linearly with
   the number of items.
3. *Frames*: a story told by several outlets takes in a small group that carries two or
   more of its own names (a Mass on the visit's third day, a colour piece) unless that
   group's headline announces another kind of event or it is about something else.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasketch import MinHash

from .models import BUCKETS, Bucket, CountryProfile, Item, Story
from .terms import TermMatcher
from .text import content_words, dot, language_of, tfidf, tokenize

SHINGLE = 5
NUM_PERM = 64
COPY_THRESHOLD = 0.5
STORY_THRESHOLD = 0.20
ANCHOR_SCALE = 3.0
# Within one language the words themselves say whether two items tell one development;
# shared names (a country, its capital, a news agency) only add a little, or every Japan
# story of a week would be one story. Across languages the names are all there is.
SAME_LANGUAGE_ANCHOR = 0.15
AVERAGE_LINK = 0.5
# Across languages the anchors are all there is: two reports are joined by their own
# likeness only when they share at least this many people, places, topics or figures (a
# kind of event aside); a closer pair can still bring them together.
CROSS_LANGUAGE_SHARED = 2
TITLE_FREE_COSINE = 0.30
ANCHOR_STEM = 5
STORY_WINDOW = timedelta(days=3)
TOP_TERMS = 12
VECTOR_TERMS = 64
MAX_POSTINGS = 60
LEAD_WORDS = 120
LEAD_CHARS = 240  # the lead of a text without spaces (Chinese)
EVENT = "event:"
TOPIC = "@topic:"
# Two items whose headlines announce different kinds of event (the visit, the agreement
# signed during it) join only if they are this much closer than the threshold asks.
OTHER_EVENT_FACTOR = 0.35
# A story of at least FRAME_ITEMS reports from two outlets takes in a group of at most
# FRAME_JOINS reports that shares FRAME_SHARED of its own names: names that two of its
# reports carry and that stand mostly (FRAME_SHARE of their items) in the story.
FRAME_ITEMS = 3
FRAME_JOINS = 2
FRAME_SHARED = 2
FRAME_SHARE = 0.5
FRAME_SWEEPS = 4  # a story that grew looks again, with its new names
_DIGITS = re.compile(r"(?<!\d)\d{2,}(?!\d)")
_CJK_TEXT = re.compile(r"[\u3400-\u9fff]")
RELIABILITY = {"A": 1.0, "B": 0.85, "C": 0.7, "D": 0.5, "E": 0.3, "F": 0.6}
# Ranking (score_story). Relevance moves a score by at most RELEVANCE_SPAN around its
# floor (a domestic item that never names its country is still the country's news); each
# language beyond the first is a little more reach; security and defence weigh more.
RELEVANCE_FLOOR = 0.75
RELEVANCE_SPAN = 0.5
LANGUAGE_REACH = 0.5
SEVERITY = 1.25
MAJOR_OUTLETS = 3
# The kinds of event and topics of a headline that make a decision of national weight.
WEIGHTY = frozenset({EVENT + "agreement", "topic:budget", "topic:law"})
# The most a story of one report from one outlet can score: what a major one is raised by.
NOTICE_CEILING = (
    (1 + math.log2(2)) * max(RELIABILITY.values()) * (RELEVANCE_FLOOR + RELEVANCE_SPAN) * SEVERITY
)


def _minhash(words: Sequence[str]) -> MinHash:
    from datasketch import MinHash  # imports scipy (0.4 s): only the report path pays it

    m = MinHash(num_perm=NUM_PERM, seed=7)
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m.update_batch([s.encode("utf-8") for s in shingles])
    return m


@dataclass
class _UnionFind:
    parent: dict[int, int] = field(default_factory=dict)

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _priority(item: Item) -> tuple[object, ...]:
    return (item.published, -RELIABILITY[item.reliability], item.id)


def find_copies(items: Sequence[Item]) -> dict[int, int]:
    """Syndicated copy id -> canonical item id."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=COPY_THRESHOLD, num_perm=NUM_PERM)
    hashes: dict[int, MinHash] = {}
    for item in items:
        words = content_words(item.text)
        if len(words) < SHINGLE * 2:
            continue
        mh = _minhash(words)
        hashes[item.id] = mh
        lsh.insert(str(item.id), mh)
    uf = _UnionFind()
    for item_id, mh in hashes.items():
        for other in lsh.query(mh):
            oid = int(other)
            if oid != item_id and mh.jaccard(hashes[oid]) >= COPY_THRESHOLD:
                uf.union(item_id, oid)
    groups: dict[int, list[Item]] = defaultdict(list)
    by_id = {i.id: i for i in items}
    for item_id in hashes:
        groups[uf.find(item_id)].append(by_id[item_id])
    copies: dict[int, int] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        canonical = min(members, key=_priority)
        for m in members:
            if m.id != canonical.id:
                copies[m.id] = canonical.id
    return copies


def _vectors(items: Sequence[Item]) -> dict[int, dict[str, float]]:
    """Unit TF-IDF vectors of title (counted twice) and lead."""
    bags = []
    for item in items:
        words = content_words(item.title) * 2 + content_words(item.text)[:LEAD_WORDS]
        bags.append(Counter(w for w in words if len(w) > 2 and not w.isdigit()))
    vectors = tfidf(bags, top_terms=VECTOR_TERMS)
    return {item.id: vec for item, vec in zip(items, vectors, strict=True)}


_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяөүәғқңұһі",
        "a b v g d e yo j z i i k l m n o p r s t u f kh ts ch sh sh _ y _ e yu ya o u a g k n u h i".split(),
        strict=True,
    )
)


def _latin(token: str) -> str:
    """A rough Latin key for a name in any alphabet: Хүрэлсүх, Khürelsükh -> khurelsukh."""
    text = "".join(_CYRILLIC.get(c, c) for c in token.lower()).replace("_", "")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def concept_matcher(profile: CountryProfile | None) -> TermMatcher | None:
    """The profile's concepts (who, where), topics (what) and kinds of event, one key per
    thing in any script.

    Counterparts are left out on purpose: a neighbour named in two items is what a whole
    report section shares, not a sign of one event (it also stands among the names).
    """
    if profile is None:
        return None
    named = {**profile.concepts, **{"topic:" + k: v for k, v in profile.topics.items()}}
    terms = [(t, key, 1.0) for key, table in named.items() for ts in table.values() for t in ts]
    terms += [
        (t, EVENT + key, 1.0) for key, table in profile.events.items() for ts in table.values() for t in ts
    ]
    return TermMatcher(terms) if terms else None


def event_kind(item: Item, concepts: TermMatcher | None) -> str | None:
    """The kind of event the headline announces first (visit, agreement, reaction, ...)."""
    if concepts is None:
        return None
    hits = [h for h in concepts.find(item.title) if h.category.startswith(EVENT)]
    if not hits:
        return None
    first = min(hits, key=lambda h: (h.start if h.start >= 0 else h.char, h.category))
    return first.category[len(EVENT) :]


def _anchors(item: Item, lead_words: int = LEAD_WORDS, concepts: TermMatcher | None = None) -> set[str]:
    """Names, figures and concepts of the title and lead, as script-independent keys.

    Different outlets, even in different languages, tell one development with the same
    people, places, organisations and figures; transliterated and cut to a stem they
    meet across Latin and Cyrillic text where the words around them do not. The
    profile's concepts and topics ("@putin", "@topic:fuel") also reach Chinese, which has
    no capitals to find names by, and say *what* happened, not only who was there. A
    name that is a concept counts once, as the concept, not again as its stem.
    """
    lead = tokenize(item.text)[:lead_words]
    head = item.title + "\n" + " ".join(lead)
    if lead_words and _CJK_TEXT.search(item.text[:LEAD_CHARS]):
        head = item.title + "\n" + item.text[:LEAD_CHARS]
    toks = tokenize(head)
    out: set[str] = set()
    covered: set[int] = set()
    if concepts is not None:
        # The words that announce a kind of event ("talks", "signed") stand in the lead of
        # a visit and of the agreement signed during it alike: only the kind a headline
        # announces is an anchor, and a headline that announces none adds nothing.
        for h in concepts.find(head, toks):
            if not h.category.startswith(EVENT):
                out.add("@" + h.category)
                start = h.start
                # The capitalised words just before a name are more of it (given names,
                # initials, a title): Қасым-Жомарт Тоқаев is one person, not three names.
                while start > 0 and toks[start - 1][:1].isupper() and (start - 1) not in covered:
                    start -= 1
                covered.update(range(start, h.end))
        kind = event_kind(item, concepts)
        if kind is not None:
            out.add("@" + EVENT + kind)
    for n, t in enumerate(toks):
        if n not in covered and t[:1].isupper() and len(t) >= 4 and not t.isdigit():
            out.add(_latin(t)[:ANCHOR_STEM])
    out.update("#" + d for d in _DIGITS.findall(head))
    return out


def _language(item: Item) -> str:
    return language_of(item.language, item.title)


def _anchor_weights(anchors: dict[int, set[str]]) -> dict[str, float]:
    df: Counter[str] = Counter(a for s in anchors.values() for a in s)
    n = len(anchors)
    return {a: math.log((1 + n) / (1 + c)) for a, c in df.items()}


def _weighted_jaccard(a: set[str], b: set[str], idf: dict[str, float]) -> float:
    union = sum(idf[x] for x in sorted(a | b))
    return sum(idf[x] for x in sorted(a & b)) / union if union else 0.0


def _story_id(members: Sequence[Item]) -> str:
    key = "|".join(sorted(m.url for m in members))
    return "s-" + hashlib.sha1(key.encode()).hexdigest()[:10]


def _story_buckets(members: Sequence[Item]) -> list[Bucket]:
    weight: dict[str, float] = defaultdict(float)
    for m in members:
        c = m.classification
        if c is None:
            continue
        for rank, b in enumerate(c.buckets):
            weight[b] += 1.0 if rank == 0 else 0.5
    return [b for b in sorted(BUCKETS, key=lambda b: (-weight[b], BUCKETS.index(b))) if weight[b]]


def abroad_matcher(profile: CountryProfile | None) -> TermMatcher | None:
    """The profile's counterparts (other countries, their leaders and capitals), for ranking."""
    if profile is None:
        return None
    terms = [
        (t, key, 1.0) for key, cp in profile.counterparts.items() for ts in cp.terms.values() for t in ts
    ]
    return TermMatcher(terms) if terms else None


def _weighty(members: Sequence[Item], concepts: TermMatcher | None, abroad: TermMatcher | None) -> bool:
    """Whether a headline announces an official decision of national weight: an agreement
    (with a counterpart or not), or the country's own budget or law (a headline that names
    another country tells of that country's budget or law)."""
    if concepts is None:
        return False
    for m in members:
        kinds = {h.category for h in concepts.find(m.title)} & WEIGHTY
        if EVENT + "agreement" in kinds:
            return True
        if kinds and not (abroad is not None and abroad.find(m.title)):
            return True
    return False


def score_story(
    members: Sequence[Item],
    copies: dict[int, int],
    concepts: TermMatcher | None = None,
    abroad: TermMatcher | None = None,
) -> tuple[float, dict[str, float]]:
    """Importance: independent outlets and languages, reliability (official sources are
    graded highest), relevance and severity; a major story is lifted above every notice.

    A story is *major* when three or more independent outlets carry it, or when a headline
    announces a decision of national weight (``concepts`` and ``abroad``: the profile's
    matchers, see :func:`concept_matcher` and :func:`abroad_matcher`). Its score is raised
    by the most a one-report notice can score, so a week's crowd of single notices (a snow
    warning, a rotation, a credentials ceremony) never pushes the budget or the visit out of
    the Key Developments.
    """
    originals = [m for m in members if m.id not in copies]
    outlets = len({m.source for m in originals})
    echoes = len({m.source for m in members}) - outlets
    languages = len({language_of(m.language, m.title) for m in originals})
    reliability = max(RELIABILITY[m.reliability] for m in members)
    relevance = sum(m.classification.relevance if m.classification else 0.0 for m in members)
    relevance /= max(1, len(members))
    buckets = _story_buckets(members)
    severity = SEVERITY if buckets and buckets[0] in ("security", "defense") else 1.0
    weighty = _weighty(members, concepts, abroad)
    major = outlets >= MAJOR_OUTLETS or weighty
    coverage = 1 + math.log2(1 + outlets + 0.5 * max(0, echoes)) + LANGUAGE_REACH * (languages - 1)
    score = coverage * reliability * (RELEVANCE_FLOOR + RELEVANCE_SPAN * relevance) * severity
    if major:
        score += NOTICE_CEILING
    parts = {
        "outlets": float(outlets),
        "syndication": float(max(0, echoes)),
        "languages": float(languages),
        "reliability": reliability,
        "relevance": round(relevance, 3),
        "severity": severity,
        "national_weight": 1.0 if weighty else 0.0,
        "major": 1.0 if major else 0.0,
    }
    return round(score, 4), parts


def build_stories(items: Sequence[Item], profile: CountryProfile | None = None) -> list[Story]:
    """Stories over ``items`` (relevant items of a period), most important first.

    With the country ``profile``, its concepts join reports of one event across scripts.
    """
    if not items:
        return []
    by_id = {i.id: i for i in items}
    copies = find_copies(items)
    originals = [i for i in items if i.id not in copies]
    vectors = _vectors(originals)
    concepts = concept_matcher(profile)
    anchors = {i.id: _anchors(i, concepts=concepts) for i in originals}
    idf = _anchor_weights(anchors)
    index: dict[str, list[int]] = defaultdict(list)
    keys: dict[int, list[str]] = {}
    for item in originals:
        top = [w for w, _v in sorted(vectors[item.id].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TERMS]]
        rare = sorted(anchors[item.id], key=lambda a: (-idf[a], a))[:TOP_TERMS]
        keys[item.id] = top + ["@" + a for a in rare]
        for k in keys[item.id]:
            index[k].append(item.id)

    language = {i.id: _language(i) for i in originals}
    headline_names = {i.id: _anchors(i, lead_words=0, concepts=concepts) for i in originals}
    kind = {i.id: event_kind(i, concepts) for i in originals}

    def similarity(a: int, b: int) -> float:
        if abs(by_id[a].published - by_id[b].published) > STORY_WINDOW:
            return 0.0
        factor = OTHER_EVENT_FACTOR if kind[a] and kind[b] and kind[a] != kind[b] else 1.0
        return factor * _closeness(a, b)

    def _closeness(a: int, b: int) -> float:
        shared_names = _weighted_jaccard(anchors[a], anchors[b], idf) * ANCHOR_SCALE
        if language[a] == language[b]:
            cosine = dot(vectors[a], vectors[b])  # unit vectors
            if cosine < TITLE_FREE_COSINE and not headline_names[a] & headline_names[b]:
                return 0.0  # neighbouring topics: no name in common in their headlines
            return cosine + SAME_LANGUAGE_ANCHOR * shared_names
        return shared_names

    def can_seed(a: int, b: int) -> bool:
        """Whether this pair alone may join two groups (it always counts in their average)."""
        if language[a] == language[b]:
            return True
        # One shared person or place is every story of the week about them.
        shared = {x for x in anchors[a] & anchors[b] if not x.startswith("@" + EVENT)}
        return len(shared) >= CROSS_LANGUAGE_SHARED

    pairs: dict[tuple[int, int], float] = {}
    for item in originals:
        for k in keys[item.id]:
            postings = index[k]
            if len(postings) > MAX_POSTINGS:  # a word in that many items distinguishes none
                continue
            for other in postings:
                pair = (min(item.id, other), max(item.id, other))
                if other != item.id and pair not in pairs:
                    pairs[pair] = similarity(*pair)
    # Only pairs that can matter are kept for merging (the rest cost memory at scale).
    pairs = {pair: sim for pair, sim in pairs.items() if sim > 0.0}
    # Merge the closest pairs first; two groups join only when they are close on average,
    # so one shared name cannot chain unrelated developments together.
    group_of: dict[int, list[int]] = {i.id: [i.id] for i in originals}
    uf = _UnionFind()
    for (a, b), sim in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
        if sim < STORY_THRESHOLD:
            break
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb or not can_seed(a, b):
            continue
        cross = [pairs.get((min(x, y), max(x, y)), 0.0) for x in group_of[ra] for y in group_of[rb]]
        if sum(cross) / len(cross) >= STORY_THRESHOLD * AVERAGE_LINK:
            uf.union(ra, rb)
            root = uf.find(ra)
            group_of[root] = group_of[ra] + group_of[rb]
    _attach_to_frames(uf, [i.id for i in originals], by_id, anchors, kind)
    groups: dict[int, list[Item]] = defaultdict(list)
    for item in originals:
        groups[uf.find(item.id)].append(item)
    for copy_id, canonical_id in copies.items():
        groups[uf.find(canonical_id)].append(by_id[copy_id])
    abroad = abroad_matcher(profile)
    stories = [_story(members, copies, concepts, abroad) for members in groups.values()]
    stories.sort(key=lambda s: (-s.score, s.first_seen, s.id))
    return stories


def _attach_to_frames(
    uf: _UnionFind,
    ids: Sequence[int],
    by_id: dict[int, Item],
    anchors: dict[int, set[str]],
    kind: dict[int, str | None],
) -> None:
    """Join small groups to a large story they belong to, told from another angle.

    A visit reported by many outlets is also a Mass on its third day, a colour piece, a
    report in a language whose words share nothing with the English ones: each alone is
    too far from any one report, but it shares two or more of the story's own names (those
    that several of its reports carry and that the rest of the week mostly lacks). A small
    group whose headline announces another kind of event (the reaction to the visit, the
    agreement signed during it) stays apart, whatever it shares.
    """
    df: Counter[str] = Counter(a for i in ids for a in anchors[i])
    for _sweep in range(FRAME_SWEEPS):
        members: dict[int, list[int]] = defaultdict(list)
        for i in ids:
            members[uf.find(i)].append(i)
        # Small groups by their names, so a story looks only at groups that share one.
        small: dict[str, set[int]] = defaultdict(set)
        names_of: dict[int, set[str]] = {}
        for r, m in members.items():
            if len(m) <= FRAME_JOINS:
                names_of[r] = set().union(*(anchors[i] for i in m))
                for a in names_of[r]:
                    small[a].add(r)
        frames = sorted(
            (
                r
                for r, m in members.items()
                if len(m) >= FRAME_ITEMS and len({by_id[i].source for i in m}) > 1
            ),
            key=lambda r: (-len(members[r]), r),
        )
        joined: set[int] = set()
        for root in frames:
            frame = members[root]
            inside: Counter[str] = Counter(a for i in frame for a in anchors[i])
            core = {
                a
                for a, n in inside.items()
                if n >= 2 and not a.startswith("@" + EVENT) and n >= FRAME_SHARE * df[a]
            }
            kinds = Counter(kind[i] for i in frame if kind[i])
            frame_kind = min(kinds, key=lambda k: (-kinds[k], k)) if kinds else None
            lo = min(by_id[i].published for i in frame) - STORY_WINDOW
            hi = max(by_id[i].published for i in frame) + STORY_WINDOW
            for other in sorted({r for a in core for r in small.get(a, ())} - joined - {root}):
                group, names = members[other], names_of[other]
                if len(names & core) < FRAME_SHARED:
                    continue
                if any(not lo <= by_id[i].published <= hi for i in group):
                    continue
                if {kind[i] for i in group if kind[i]} - {frame_kind}:
                    continue  # a kind of event of its own
                if any(a.startswith(TOPIC) and a not in inside for a in names):
                    continue  # about something the story is not: a fire beside the snow
                uf.union(root, other)
                joined.add(other)
        if not joined:
            break


def story_from(
    members: Sequence[Item], copies: dict[int, int], profile: CountryProfile | None = None
) -> Story:
    """The story of these items (``copies``: copy id -> its original), scored with the
    country ``profile`` (which headlines announce a decision of national weight).

    Also how the review desk rebuilds a story an analyst merged or moved items into.
    """
    return _story(members, copies, concept_matcher(profile), abroad_matcher(profile))


def _story(
    members: Sequence[Item], copies: dict[int, int], concepts: TermMatcher | None, abroad: TermMatcher | None
) -> Story:
    members = sorted(members, key=_priority)
    story_copies = {m.id: copies[m.id] for m in members if m.id in copies}
    canonical = min((m for m in members if m.id not in story_copies), key=_priority, default=members[0])
    score, parts = score_story(members, story_copies, concepts, abroad)
    return Story(
        id=_story_id(members),
        item_ids=[m.id for m in members],
        canonical_id=canonical.id,
        copies=story_copies,
        outlets=sorted({m.source for m in members}),
        first_seen=min(m.published for m in members),
        last_seen=max(m.published for m in members),
        buckets=_story_buckets(members),
        score=score,
        score_parts=parts,
    )
