"""Split article text into clean, quotable sentences. Pure.

A sentence that goes into the report must stand on its own: no dateline
("ULAANBAATAR, March 9 (MONTSAME) –"), no byline, no "Read more" or cookie text, and
not a fragment. Splitting respects initials and titles ("Brig. Gen. D. Myagmarjav",
"U.S.") so names are not cut in half.

Nor may it lean on the sentence before it: "She stressed…", "The latter…", "Much of the
increase…", "The strategy, which covers…" mean nothing out of their article.
:func:`leans_back` tells such a sentence, and :func:`quotable` gives each sentence with
the one before it, so a composer can quote it only right after that one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import MONTH_ABBREVIATIONS

_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "brig",
    "col",
    "lt",
    "maj",
    "capt",
    "sgt",
    "adm",
    "gov",
    "sen",
    "rep",
    "st",
    "no",
    "vs",
    "etc",
    "inc",
    "ltd",
    "co",
    "corp",
    "jr",
    "sr",
    "u.s",
    "u.k",
    "u.n",
    "e.g",
    "i.e",
    "approx",
    "est",
    "dept",
    "govt",
    "min",
} | {abbr.lower() for abbr in MONTH_ABBREVIATIONS}
_CAPITAL = "A-ZÀ-ÖØ-ÞА-ЯЁӨҮӘҒҚҢҰҺІЇЄЎ"
"""Capitals of the Latin and Cyrillic alphabets the profiles' outlets write in (Kazakh's Қ, Ә … too)."""
_BOUNDARY = re.compile(rf"(?<=[.!?…])[\"'”»)]*\s+(?=[\"'“«(]?[{_CAPITAL}0-9])")
_DATELINE = re.compile(
    r"^\s*[A-ZА-ЯЁӨҮ][A-ZА-ЯЁӨҮ .'-]{2,40},?\s*"  # ULAANBAATAR,
    r"(?:[A-Z][a-z]+\.? \d{1,2}(?:, \d{4})?\s*)?"  # March 9
    r"(?:\([^)]{1,30}\)\s*)?"  # (MONTSAME)
    r"[-–—:]+\s*"
)
_SOURCE_TAG = re.compile(r"^\s*\((?:[A-Z][A-Za-z]+|[A-Z]{2,})\)\s*[-–—]\s*")
_JUNK = re.compile(
    r"(cookie|subscribe|newsletter|click here|read more|all rights reserved|copyright|"
    r"follow us|share this|photo:|image:|advertisement|sign up|log in)",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^\s*(by|written by|posted by|source:)\s", re.IGNORECASE)
MIN_WORDS = 7
MAX_WORDS = 70


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, paragraph by paragraph, without breaking at abbreviations."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        pieces = _BOUNDARY.split(para)
        buf = ""
        for piece in pieces:
            buf = f"{buf} {piece}".strip() if buf else piece
            last = buf.rstrip("\"'”») ").split(" ")[-1].rstrip(".").lower()
            if last in _ABBREV or (len(last) == 1 and last.isalpha()):
                continue  # "Gen." / "D." / "U.S." — not the end of a sentence
            out.append(buf)
            buf = ""
        if buf:
            out.append(buf)
    return out


def clean_sentence(sentence: str) -> str | None:
    """The sentence without dateline, or None when it is not fit to quote."""
    s = _DATELINE.sub("", sentence, count=1)
    s = _SOURCE_TAG.sub("", s, count=1).strip()
    s = re.sub(r"\s+", " ", s)
    if not s or _BYLINE.match(s) or _JUNK.search(s):
        return None
    words = s.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS):
        return None
    if s[-1] not in ".!?\"'”»)":
        return None
    if s[0].islower():
        s = s[0].upper() + s[1:]
    return s


def quotable_sentences(text: str) -> list[str]:
    """Every clean sentence of an article, in order."""
    result = []
    for raw in split_sentences(text):
        cleaned = clean_sentence(raw)
        if cleaned:
            result.append(cleaned)
    return result


# A sentence opening on one of these refers to something said before it.
_PRONOUN = re.compile(
    r"^(?:He|She|They|It|His|Her|Hers|Their|Its|Them|We|Our|This|These|Those|That|Such|Both|"
    r"Another|The latter|The former|The same|The other|The two|The three|"
    r"Он|Она|Они|Оно|Его|Её|Ее|Их|Это|Этот|Эта|Эти|Тот|Та|Те|Тэр|Тэд|Энэ|Эдгээр|"
    r"他|她|他们|她们|该|此|这)(?![\w-])"
)
# Linking words that continue an argument begun before ("However, …", "Also on 6 March, …").
_CONNECTIVE = re.compile(
    r"^(?:However|Meanwhile|Also|Moreover|Furthermore|Additionally|Besides|Nevertheless|"
    r"Nonetheless|Still|Instead|Therefore|Thus|Hence|Otherwise|Likewise|Similarly|Then|"
    r"In addition|At the same time|In turn|As a result|For (?:its|his|her|their) part|In response|"
    r"On the other hand|By contrast|In contrast|Even so|Yet|But|And|Or|Since then|After that|"
    r"By then|Until then|At that time|Afterwards|Previously|Later|Again|Too|Either way)\b"
)
_PART_OF = re.compile(
    r"^(?:Much|Most|Many|Some|All|None|Each|Neither|Either|Part|Half|One|Two|Three|Several)"
    r" of (?:the|these|those|them|it|this|that|its|their)\b"
)
# "This week" is the time of writing, not a reference back.
_TIME_WORDS = {
    "week", "weekend", "year", "month", "morning", "afternoon", "evening", "spring", "summer",
    "autumn", "fall", "winter", "time", "season", "quarter",
}  # fmt: skip
# What follows a head noun to say which one is meant ("The opening of the Delegation …").
_QUALIFIERS = {
    "of", "between", "for", "on", "in", "to", "from", "with", "at", "by", "under", "over", "against",
    "among", "about", "into", "within", "behind", "near", "who", "whose", "that", "led", "held",
    "signed", "set", "planned", "announced", "made", "called", "known", "named", "based", "run",
}  # fmt: skip
# Verbs that end the noun phrase after "The" ("The conferences form part of …").
_VERBS = {
    "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "can", "could",
    "may", "might", "must", "should", "shall", "does", "do", "did", "also", "remain", "remains",
    "form", "forms", "cover", "covers", "include", "includes", "mark", "marks", "follow", "follows",
    "come", "comes", "take", "takes", "make", "makes", "said", "says", "say", "show", "shows",
    "seem", "seems", "appear", "appears", "continue", "continues", "began", "begins", "aims",
    "sets", "calls", "called", "stressed", "noted", "added", "expects", "plans", "seeks", "now",
}  # fmt: skip
# Heads a reader of the country's report knows without being told which one is meant
# ("The government approved …"); any other bare "The <noun>" points back ("The move …").
_KNOWN_HEADS = {
    "government", "president", "prime", "parliament", "cabinet", "country", "capital", "state",
    "economy", "authorities", "police", "army", "military", "public", "world", "region", "nation",
    "central", "national", "opposition", "constitution", "population",
}  # fmt: skip
_WORD = re.compile(r"[\w-]+|[^\w\s]")


def leans_back(sentence: str) -> bool:
    """Whether ``sentence`` depends on what came before it.

    It does when it opens on a pronoun or demonstrative ("She…", "This…", "Both sides…"), a
    linking word ("However,…", "Also on 6 March…", "Since then…"), a part of something named
    before ("Much of the increase…"), or a definite noun with nothing saying which one ("The
    strategy, which covers…", "The conferences form part of…", "The move…"). "The opening
    of the Delegation…" says which; "The government…" of the country needs no telling.
    """
    s = sentence.lstrip("\"'“«( ")
    m = _PRONOUN.match(s)
    if m:
        after = s[m.end() :].split()
        return not (m.group(0) in ("This", "That", "These", "Those") and after and after[0] in _TIME_WORDS)
    if _CONNECTIVE.match(s) or _PART_OF.match(s):
        return True
    tokens = _WORD.findall(s)
    if len(tokens) < 3 or tokens[0] != "The":
        return False
    # The noun phrase after "The": up to two lower-case words besides compounds ("mid-level");
    # a capital names a body ("The General Staff").
    head: list[str] = []
    nxt = ""
    for tok in tokens[1:6]:
        plain = tok.replace("-", "")
        words = [w for w in head if "-" not in w]
        if plain.isalpha() and tok.islower() and len(words) < 2 and tok not in _QUALIFIERS | _VERBS:
            head.append(tok)
            continue
        nxt = tok
        break
    if not head:
        return False
    if nxt.lower() in _QUALIFIERS:
        return False  # "The political standoff between the State Great Khural …"
    return head[0] not in _KNOWN_HEADS


@dataclass(frozen=True)
class Quotable:
    """A clean sentence of an article, whether it leans back, and the sentence before it."""

    text: str
    position: int
    """Its place among the article's clean sentences."""
    leans_back: bool
    antecedent: str | None
    """The clean sentence right before it in the article (None: the one before was not
    fit to quote, or it opens the article): a sentence that leans back is quoted only
    right after it."""


def quotable(text: str) -> list[Quotable]:
    """Every clean sentence of an article, in order, each with the one it may lean on."""
    out: list[Quotable] = []
    previous: str | None = None
    for raw in split_sentences(text):
        cleaned = clean_sentence(raw)
        if cleaned is not None:
            out.append(Quotable(cleaned, len(out), leans_back(cleaned), previous))
        previous = cleaned
    return out
