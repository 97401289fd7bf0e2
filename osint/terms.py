"""Find configured terms in text, in any script, fast enough for tens of thousands of items.

Terms come from configuration (country names, entities, bucket taxonomies). Matching
works on word tokens so it is linear in the text and needs no giant regex:

* case-insensitive, except terms written in capitals of up to 5 letters (``US``, ``EU``,
  ``PRC``), which match only in capitals so that "us" is not the United States;
* a trailing ``*`` makes the last word a prefix (``Монголи*`` finds Монголия, Монголии);
* multi-word terms match consecutive tokens;
* Chinese, Japanese and Korean terms (no spaces to split on) match as substrings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .text import tokenize

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Hit:
    term: str
    category: str
    weight: float
    start: int
    end: int
    """Token span [start, end); for CJK substring hits, -1/-1."""
    char: int = -1
    """For CJK substring hits, the character offset of the first occurrence."""


@dataclass(frozen=True)
class _Pattern:
    words: tuple[str, ...]
    prefix: bool
    exact_case: bool
    term: str
    category: str
    weight: float


class TermMatcher:
    """A compiled set of (term, category, weight) to look for in text."""

    def __init__(self, terms: Iterable[tuple[str, str, float]]) -> None:
        self._by_first: dict[str, list[_Pattern]] = defaultdict(list)
        self._prefix_first: dict[str, list[_Pattern]] = defaultdict(list)
        self._seen: set[tuple[tuple[str, ...], bool, str]] = set()
        self._cjk: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for term, category, weight in terms:
            raw = term.strip()
            if not raw:
                continue
            prefix = raw.endswith("*")
            body = raw.rstrip("*").strip()
            if _CJK.search(body):
                self._cjk[body].append((category, weight))
                continue
            words = tuple(tokenize(body))
            if not words:
                continue
            exact = len(body.replace(".", "")) <= 5 and body.replace(".", "").isupper()
            norm = words if exact else tuple(w.lower() for w in words)
            key = (norm, prefix, category)
            if key in self._seen:
                continue
            self._seen.add(key)
            pat = _Pattern(norm, prefix, exact, raw, category, weight)
            if prefix and len(words) == 1:
                self._prefix_first[norm[0][:3]].append(pat)
            else:
                self._by_first[norm[0]].append(pat)

    def find(self, text: str, tokens: list[str] | None = None) -> list[Hit]:
        """Every occurrence of every term; the longest term wins where terms overlap."""
        toks = tokens if tokens is not None else tokenize(text)
        lower = [t.lower() for t in toks]
        hits: list[Hit] = []
        n = len(toks)
        i = 0
        while i < n:
            best: Hit | None = None
            candidates = self._by_first.get(lower[i], []) + self._by_first.get(toks[i], [])
            candidates += self._prefix_first.get(lower[i][:3], [])
            for pat in candidates:
                m = len(pat.words)
                if i + m > n:
                    continue
                seq = toks[i : i + m] if pat.exact_case else lower[i : i + m]
                if pat.prefix:
                    ok = tuple(seq[:-1]) == pat.words[:-1] and seq[-1].startswith(pat.words[-1])
                else:
                    ok = tuple(seq) == pat.words
                if ok and (best is None or m > best.end - best.start):
                    best = Hit(pat.term, pat.category, pat.weight, i, i + m)
            if best is not None:
                # Collect every category matched by this same span (a term may be in several).
                span = best.end - best.start
                for pat in candidates:
                    if len(pat.words) != span or (pat.term == best.term and pat.category == best.category):
                        continue
                    seq = toks[i : i + span] if pat.exact_case else lower[i : i + span]
                    ok = (
                        tuple(seq[:-1]) == pat.words[:-1] and seq[-1].startswith(pat.words[-1])
                        if pat.prefix
                        else tuple(seq) == pat.words
                    )
                    if ok:
                        hits.append(Hit(pat.term, pat.category, pat.weight, i, i + span))
                hits.append(best)
                i = best.end
            else:
                i += 1
        if self._cjk:
            # Longest first, blanking what matched, so 内蒙古 is not also counted as 蒙古.
            work = text
            for term in sorted(self._cjk, key=len, reverse=True):
                if term not in work:
                    continue
                offsets = [m.start() for m in re.finditer(re.escape(term), work)]
                for category, weight in self._cjk[term]:
                    hits.extend(Hit(term, category, weight, -1, -1, char=o) for o in offsets)
                work = work.replace(term, "\0" * len(term))
        return hits
