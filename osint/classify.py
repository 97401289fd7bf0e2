"""Relevance to the country and the four buckets, each decision with the evidence behind it.

Rules, not a model, so an analyst can read why an item is "defense" and change the
taxonomy in the country profile. Where a term stands matters: the title counts most,
then the lead (the first sentences), then the body, with diminishing returns for
repeats, so a country named once in a list of many does not make an item about it.
An outlet based in the country (``country:`` in feeds.yaml) raises the prior, since a
national agency rarely names its own country in a domestic story.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import terms as term_matching
from .models import BUCKETS, Bucket, Classification, CountryProfile
from .terms import Hit, TermMatcher
from .text import tokenize

# Stored decisions are reused only while the rules that made them are unchanged: the
# rules are this module and the term matcher, so their source is part of the key.
RULES_VERSION = hashlib.sha1(
    Path(__file__).read_bytes() + Path(term_matching.__file__).read_bytes()
).hexdigest()[:12]

LEAD_TOKENS = 60

# Relevance weights per region for the country's names and for its entities.
NAME_WEIGHT = {"title": 4.0, "lead": 2.5, "body": 1.0}
ENTITY_WEIGHT = {"title": 2.0, "lead": 1.2, "body": 0.5}
REGION_FACTOR = {"title": 2.0, "lead": 1.5, "body": 1.0}
# A national outlet's domestic story often names neither the country nor any entity
# ("the Prime Minister", "the capital"), so its source alone clears the threshold...
DOMESTIC_PRIOR = 3.0
# ...unless its title names another country and neither title nor lead names anything of
# this one: then the outlet is reporting abroad, and the text must bring evidence of its own.
DOMESTIC_PRIOR_ABROAD = 1.0
RELEVANCE_THRESHOLD = 3.0
SECONDARY_RATIO = 0.35
MIN_BUCKET_SCORE = 2.0
# An item whose outside-the-buckets vocabulary (culture, sport, ...) weighs this share of
# its best bucket or more is none of the four: a jazz review that mentions a "security"
# guard is still a jazz review.
OUTSIDE_RATIO = 1.0
# The headline says what kind of event a story is: a state visit whose talks were about
# trade and energy is diplomacy, a protest about coal prices is security. Economy is the
# bucket of topics rather than events, so when it leads on the body's words, the bucket
# that owns the headline leads instead if its whole score is within this share of it.
TITLE_FRAME_RATIO = 0.6


OUTSIDE = "~outside"
LEAD_CHARS = 200  # for scripts without spaces (Chinese), the lead in characters


@dataclass(frozen=True)
class _Doc:
    tokens: list[str]
    title_len: int
    text: str
    title_chars: int

    def region(self, hit: Hit) -> str:
        if hit.start < 0:
            if 0 <= hit.char < self.title_chars:
                return "title"
            if 0 <= hit.char < self.title_chars + LEAD_CHARS:
                return "lead"
            return "body"
        if hit.start < self.title_len:
            return "title"
        if hit.start < self.title_len + LEAD_TOKENS:
            return "lead"
        return "body"


def _one_per_span(hits: list[Hit]) -> list[Hit]:
    """One hit per stretch of text and category: "учения" is both the term "учения" and the
    prefix "учени*", but it is one word and must count once (the heavier term speaks)."""
    best: dict[tuple[str, int, int, int], Hit] = {}
    for hit in hits:
        key = (hit.category, hit.start, hit.end, hit.char)
        if key not in best or (hit.weight, hit.term) > (best[key].weight, best[key].term):
            best[key] = hit
    return list(best.values())


def _diminishing(count: int) -> float:
    return 1.0 + math.log(count) if count > 0 else 0.0


class Classifier:
    """A country profile compiled for fast matching."""

    def __init__(self, profile: CountryProfile) -> None:
        self.profile = profile
        self._profile_hash = hashlib.sha1(profile.model_dump_json().encode()).hexdigest()[:16]
        rel: list[tuple[str, str, float]] = []
        for cat, table in (
            ("name", profile.names),
            ("place", profile.places),
            ("person", profile.people),
            ("institution", profile.institutions),
            ("ambiguous", profile.ambiguous),
        ):
            for terms in table.values():
                rel.extend((t, cat, 1.0) for t in terms)
        self._relevance = TermMatcher(rel)
        self._abroad = TermMatcher(
            (t, key, 1.0) for key, cp in profile.counterparts.items() for ts in cp.terms.values() for t in ts
        )
        buckets: list[tuple[str, str, float]] = []
        for bucket, spec in profile.taxonomy.items():
            for weighted in spec.terms.values():
                buckets.extend((t, bucket, float(w)) for t, w in weighted.items())
            for weighted in spec.negative.values():
                buckets.extend((t, "-" + bucket, float(w)) for t, w in weighted.items())
        for weighted in profile.outside.values():
            buckets.extend((t, OUTSIDE, float(w)) for t, w in weighted.items())
        self._buckets = TermMatcher(buckets)

    def fingerprint(self, source_country: str | None) -> str:
        """What a stored decision depends on: this code's rules, the profile, the source's country."""
        return f"{RULES_VERSION}:{self._profile_hash}:{(source_country or '').upper()}"

    def classify(self, title: str, text: str, source_country: str | None = None) -> Classification:
        """Relevance, buckets (primary first) and the evidence for both."""
        title_tokens = tokenize(title)
        doc = _Doc(title_tokens + tokenize(text), len(title_tokens), title + "\n" + text, len(title))
        relevance, rel_evidence = self._relevance_of(doc, source_country)
        buckets, bucket_evidence = self._buckets_of(doc)
        # Being about the country is not enough for a security brief: the item must also
        # belong to one of the four buckets on its own evidence. The source prior of a
        # domestic outlet makes an item eligible; it never supplies the bucket.
        about = relevance >= RELEVANCE_THRESHOLD
        rel_evidence["needs_bucket"] = "met" if buckets else "no bucket: not relevant"
        return Classification(
            relevant=about and bool(buckets),
            relevance=round(1.0 - math.exp(-relevance / RELEVANCE_THRESHOLD), 3),
            buckets=buckets,
            evidence={"relevance": rel_evidence, "buckets": bucket_evidence},
        )

    def _relevance_of(self, doc: _Doc, source_country: str | None) -> tuple[float, dict[str, object]]:
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for hit in _one_per_span(self._relevance.find(doc.text, doc.tokens)):
            if hit.category == "ambiguous":
                continue
            counts[(hit.category, hit.term, doc.region(hit))] += 1
        score = 0.0
        matched: list[dict[str, object]] = []
        per_region: dict[tuple[str, str], int] = defaultdict(int)
        for (cat, term, region), n in sorted(counts.items()):
            per_region[(cat if cat == "name" else "entity", region)] += n
            matched.append({"term": term, "kind": cat, "where": region, "count": n})
        for (kind, region), n in per_region.items():
            table = NAME_WEIGHT if kind == "name" else ENTITY_WEIGHT
            score += table[region] * _diminishing(n)
        words = max(1, len(doc.tokens))
        density = sum(per_region.values()) * 100.0 / words
        prior = 0.0
        abroad: list[str] = []
        if source_country and source_country.upper() == self.profile.code.upper():
            # The country's own names in the title, its own people in the lead (the
            # President abroad) or its own places there (activists detained in its city
            # outside a neighbour's embassy) keep the story at home; an institution's name
            # in the lead can be a foreign namesake ("Liberal Democratic Party").
            own_in_title = any(
                region == "title" or (region == "lead" and cat in ("person", "place"))
                for (cat, _t, region) in counts
            )
            title = doc.text[: doc.title_chars]
            abroad = sorted(
                {h.term for h in _one_per_span(self._abroad.find(title, doc.tokens[: doc.title_len]))}
            )
            prior = DOMESTIC_PRIOR_ABROAD if abroad and not own_in_title else DOMESTIC_PRIOR
            score += prior
        evidence: dict[str, object] = {
            "score": round(score, 3),
            "threshold": RELEVANCE_THRESHOLD,
            "matches": matched,
            "mentions_per_100_words": round(density, 2),
            "domestic_source_prior": prior,
        }
        if abroad:
            evidence["title_names_abroad"] = abroad
        return score, evidence

    def _buckets_of(self, doc: _Doc) -> tuple[list[Bucket], dict[str, object]]:
        per_term: dict[tuple[str, str], list[str]] = defaultdict(list)
        weights: dict[tuple[str, str], float] = {}
        for hit in _one_per_span(self._buckets.find(doc.text, doc.tokens)):
            per_term[(hit.category, hit.term)].append(doc.region(hit))
            weights[(hit.category, hit.term)] = hit.weight
        scores: dict[str, float] = defaultdict(float)
        terms: dict[str, dict[str, float]] = defaultdict(dict)
        negative: dict[str, dict[str, float]] = defaultdict(dict)
        outside: dict[str, float] = {}
        in_title: dict[str, float] = defaultdict(float)
        for (cat, term), regions in per_term.items():
            best = max(REGION_FACTOR[r] for r in regions)
            value = weights[(cat, term)] * best * _diminishing(len(regions))
            if "title" in regions:
                in_title[cat] += weights[(cat, term)] * (-1.0 if cat.startswith("-") else 1.0)
            if cat == OUTSIDE:
                outside[term] = round(value, 2)
            elif cat.startswith("-"):
                scores[cat[1:]] -= value
                negative[cat[1:]][term] = round(value, 2)
            else:
                scores[cat] += value
                terms[cat][term] = round(value, 2)
        ranked = sorted(
            (b for b in BUCKETS if scores.get(b, 0.0) > 0.0),
            key=lambda b: (-scores[b], BUCKETS.index(b)),
        )
        chosen: list[Bucket] = []
        basis = "no bucket term"
        outside_score = sum(outside.values())
        top = scores[ranked[0]] if ranked else 0.0
        if ranked and top >= MIN_BUCKET_SCORE and outside_score >= OUTSIDE_RATIO * top:
            basis = "outside the four buckets"
        elif ranked and top >= MIN_BUCKET_SCORE:
            floor = max(MIN_BUCKET_SCORE, SECONDARY_RATIO * top)
            chosen = [b for b in ranked if scores[b] >= floor]
            basis = "highest score"
            heads = sorted(chosen, key=lambda b: (-(in_title[b] - in_title["-" + b]), chosen.index(b)))
            lead = heads[0]
            lead_title = in_title[lead] - in_title["-" + lead]
            others = max((in_title[b] - in_title["-" + b] for b in chosen if b != lead), default=0.0)
            if (
                chosen[0] == "economy"
                and lead != chosen[0]
                and lead_title > others
                and scores[lead] >= TITLE_FRAME_RATIO * top
            ):
                chosen.remove(lead)
                chosen.insert(0, lead)
                basis = "headline's bucket (body split between buckets)"
        elif ranked:
            # Only a stray context word ("visit", "energy") is no evidence of a bucket.
            basis = "weak signal only"
        evidence: dict[str, object] = {
            b: {
                "score": round(scores.get(b, 0.0), 2),
                "terms": dict(sorted(terms[b].items(), key=lambda kv: (-kv[1], kv[0]))[:12]),
                "negative": negative.get(b, {}),
                "in_title": sorted(
                    t for (c, t), regions in per_term.items() if c == b and "title" in regions
                ),
            }
            for b in BUCKETS
        }
        evidence["basis"] = basis
        evidence["outside"] = {
            "score": round(outside_score, 2),
            "terms": dict(sorted(outside.items(), key=lambda kv: (-kv[1], kv[0]))[:12]),
        }
        evidence["rule"] = (
            f"primary: highest score >= {MIN_BUCKET_SCORE}, unless outside-the-buckets terms weigh "
            f">= {OUTSIDE_RATIO} of it; also listed: >= {SECONDARY_RATIO} of it; "
            f"a term counts x{REGION_FACTOR['title']} in the title, x{REGION_FACTOR['lead']} in the lead"
        )
        evidence["primary"] = chosen[0] if chosen else None
        return chosen, evidence
