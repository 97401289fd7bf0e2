"""Text helpers every stage shares, written once. Pure.

Before this module, clustering, week-over-week linking and the extractive engine each
had their own stopword list (only one knew Russian and Mongolian), their own ``\\w+``
tokeniser and their own TF-IDF and cosine; four modules had their own idea of a control
character and two their own month table. Each helper here answers one question:

* :func:`tokenize` and :func:`words` -- word tokens (``\\w+``: punctuation splits,
  ``U.S.`` -> ``U``, ``S``; a run of Chinese characters stays one token, which is why
  :mod:`osint.terms` matches CJK terms as substrings);
* :data:`STOPWORDS` (per language: en, ru, mn, zh), :data:`ALL_STOPWORDS` and
  :func:`content_words` -- the words that say what a text is about;
* :func:`tfidf`, :func:`unit` and :func:`dot` -- sparse vectors, one weighting
  (``(1 + log tf) * log((1 + n) / (1 + df))``) and one similarity (the dot product of
  unit vectors is their cosine);
* :data:`MONTHS`, :data:`MONTH_NAMES`, :data:`MONTH_ABBREVIATIONS`, :data:`MONTH_PATTERN`
  -- English month names for dates written in text;
* :func:`strip_controls` and :func:`has_controls` -- characters that are never text
  (controls, surrogates, non-characters), and with ``hidden=True`` also those a reader
  cannot see but a parser or a model reads (zero-width, bidi, line separators);
* :func:`language_of` -- a text's language from its tag, or the script of its title;
* :func:`fold_space` -- runs of whitespace as one space, none at the ends (what
  ``" ".join(text.split())`` gives, named once);
* :func:`clean_text` -- whitespace-folded text of a field, its markup stripped when it is HTML.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Word tokens in their original case; punctuation splits (``U.S.`` -> ``U``, ``S``;
    ``Mongolia's`` -> ``Mongolia``, ``s``), so possessives and hyphenated forms match."""
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    """The lower-cased word tokens of ``text``, in order."""
    return [t.lower() for t in _TOKEN.findall(text)]


# --------------------------------------------------------------------------- stopwords

STOPWORDS: Mapping[str, frozenset[str]] = {
    # Function words, plus the words of news calendar talk ("said", "week", "new") that
    # every report carries and that therefore tell two reports apart from nothing.
    "en": frozenset(
        """a an the and or but of in on at to for from by with as is are was were be been being
        it its this that these those he she they them his her their we our you your i not no has
        have had will would can could should may might must do does did said says say also than
        then there here which who whom whose what when where why how all any each more most other
        some such only own same so too very just into over after before about against between
        during under up down out off again further once new one two three year years week weeks
        day days month months mr ms mrs dr""".split()
    ),
    "ru": frozenset(
        """и в во на с со по за к ко от до из у о об что как это не но а же для при также был была
        были было будет то его ее её их он она они мы вы я""".split()
    ),
    # Mongolian (Cyrillic script): particles, copulas and the commonest verbs of reporting.
    "mn": frozenset("""ба нь юм болон энэ тэр гэж гэсэн байна байгаа байсан бол ч хийх""".split()),
    # Chinese function words. The tokeniser keeps a run of Han characters whole, so these
    # match only where a text was segmented (spaces or punctuation around them).
    "zh": frozenset("""的 了 和 是 在 也 与 及 等 这 那 将 对 从 被 为 就 而 并 其 之""".split()),
}
ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())
"""Every language's stopwords: a collection mixes languages and items are not always tagged."""


def content_words(text: str, *, min_length: int = 1) -> list[str]:
    """Lower-cased tokens of ``text`` that are no stopword in any language, in order."""
    return [w for w in words(text) if len(w) >= min_length and w not in ALL_STOPWORDS]


# --------------------------------------------------------------------------- vectors

Vector = dict[str, float]
"""A sparse vector: term -> weight."""


def unit(weights: Mapping[str, float]) -> Vector:
    """``weights`` scaled to length 1 (an empty or all-zero vector stays as it is)."""
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    return {w: v / norm for w, v in weights.items()}


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The dot product; for two unit vectors (as :func:`tfidf` gives) it is their cosine."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def tfidf(bags: Sequence[Mapping[str, int]], *, top_terms: int | None = None) -> list[Vector]:
    """Unit TF-IDF vectors of term counts, in the order given.

    Weights are ``(1 + log tf) * log((1 + n) / (1 + df))`` over the ``n`` bags; a term in
    every bag weighs nothing and is left out. ``top_terms`` keeps only the strongest terms
    of each vector (ties by term), which carry the similarity while the tail costs time.
    """
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(bags)
    idf = {w: math.log((1 + n) / (1 + c)) for w, c in df.items()}
    vectors: list[Vector] = []
    for bag in bags:
        weighted = [(w, (1 + math.log(c)) * idf[w]) for w, c in bag.items() if c > 0]
        kept = [(w, v) for w, v in weighted if v > 0]
        if top_terms is not None:
            kept = sorted(kept, key=lambda wv: (-wv[1], wv[0]))[:top_terms]
        vectors.append(unit(dict(kept)))
    return vectors


# --------------------------------------------------------------------------- months

MONTH_NAMES: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
"""English month names; ``MONTH_NAMES[m - 1]`` is month ``m`` (not the locale's: reports are English)."""
MONTH_ABBREVIATIONS: tuple[str, ...] = (
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
)  # fmt: skip
"""Abbreviations as news text writes them (often with a full stop); May has none."""
MONTHS: Mapping[str, int] = {
    **{name: i for i, name in enumerate(MONTH_NAMES, 1)},
    **{a: next(i for i, n in enumerate(MONTH_NAMES, 1) if n.startswith(a[:3])) for a in MONTH_ABBREVIATIONS},
}
"""Every name and abbreviation -> month number (1-12)."""
MONTH_PATTERN = "|".join(sorted(MONTHS, key=len, reverse=True))
"""A regex alternation of :data:`MONTHS`, longest first (so ``Sept`` wins over ``Sep``)."""


# --------------------------------------------------------------------------- controls

# C0 controls, DEL and C1 controls, lone surrogates and the two BMP non-characters are
# never text; XML 1.0 cannot even carry most of them.
_NEVER_TEXT_C0 = "".join(chr(c) for c in range(0x20))
_NEVER_TEXT_REST = r"\x7f-\x9f\ud800-\udfff\ufffe\uffff"
# What a reader cannot see but a parser or a model reads: Unicode format characters (Cf:
# zero-width, bidi controls, the BOM, tag characters), private-use characters (Co) and the
# line and paragraph separators (Zl, Zp). tests/test_text.py holds this table against
# unicodedata, so a Python with a newer Unicode version says when it needs updating.
_HIDDEN = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028\u2029"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff"
    r"\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)


@lru_cache(maxsize=16)
def _controls(hidden: bool, keep: str) -> re.Pattern[str]:
    c0 = "".join(re.escape(c) for c in _NEVER_TEXT_C0 if c not in keep)
    return re.compile(f"[{c0}{_NEVER_TEXT_REST}{_HIDDEN if hidden else ''}]+")


def strip_controls(text: str, *, hidden: bool = False, keep: str = "\t\n\r", replacement: str = "") -> str:
    """``text`` without characters that are never text, each run replaced by ``replacement``.

    ``keep`` names the whitespace controls that stay (tab and line breaks by default;
    ``""`` for a one-line value such as an email header). ``hidden=True`` also removes
    the invisible characters that can smuggle meaning past a reader (see the module doc).
    """
    return _controls(hidden, keep).sub(replacement, text)


def has_controls(text: str, *, hidden: bool = False, keep: str = "") -> bool:
    """Whether :func:`strip_controls` with the same options would change ``text``."""
    return _controls(hidden, keep).search(text) is not None


# --------------------------------------------------------------------------- markup

_SPACE = re.compile(r"\s+")
_NOT_TEXT = ("script", "style", "template", "noscript", "iframe", "object", "embed", "applet")
"""Elements whose content no reader sees as text (code, styles, embedded documents)."""


def fold_space(text: str) -> str:
    """Runs of whitespace as one space, none at either end."""
    return _SPACE.sub(" ", text).strip()


def clean_text(value: str, limit: int, *, html: bool = False) -> str:
    """Whitespace-folded text, at most ``limit`` characters, without control characters.

    ``html=True`` says the value is HTML: its elements are stripped and its entities
    (``Q&amp;A``) decoded. Otherwise the value is text already, and ``<b>`` or ``&amp;``
    in it are characters to keep: reading text as HTML would decode it a second time.
    """
    value = strip_controls(value)
    if html:
        import lxml.html  # parsing HTML is for fields that hold it; plain text skips the import
        from lxml import etree

        try:
            root = lxml.html.fromstring(value)
            hidden = [el for el in root.iter(*_NOT_TEXT) if el is not root]
            for el in hidden:
                el.drop_tree()  # the element goes, the text after it stays
            value = "" if root.tag in _NOT_TEXT else root.text_content()
        except (etree.ParserError, ValueError):
            value = re.sub(r"<[^>]+>", " ", value)
    return fold_space(value)[:limit]


def language_of(tag: str | None, title: str) -> str:
    """A text's language: its tag's primary subtag ("ru-RU" -> "ru"), or failing that the
    script most of ``title`` is written in ("latin", "cyrillic", "cjk", ...)."""
    if tag:
        return tag.lower().split("-")[0]
    letters = [c for c in title if c.isalpha()]
    if not letters:
        return ""
    scripts = Counter(unicodedata.name(c, "?").split(" ")[0] for c in letters)
    return min(scripts.items(), key=lambda kv: (-kv[1], kv[0]))[0].lower()
