"""Split article text into clean, quotable sentences. Pure.

A sentence that goes into the report must stand on its own: no dateline
("ULAANBAATAR, March 9 (MONTSAME) –"), no byline, no "Read more" or cookie text, and
not a fragment. Splitting respects initials and titles ("Brig. Gen. D. Myagmarjav",
"U.S.") so names are not cut in half.
"""

from __future__ import annotations

import re

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
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”»)]*\s+(?=[\"'“«(]?[A-ZА-ЯЁӨҮ0-9])")
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
