"""Article text is data: keep it from acting as instructions, fences or markup. Pure.

Web text reaches a language model only inside the LLM engine's fenced blocks, and
reaches the report only through verification. Both ask this module the same questions:

* :func:`strip_hidden` removes what a reader cannot see but a model reads (zero-width
  and bidi control characters, other control characters);
* :func:`neutralise_fences` makes sure quoted text cannot close its fence or open a
  new one (runs of ``<`` or ``>`` become guillemets);
* :func:`instruction_like` recognises sentences addressed to a model ("ignore previous
  instructions and ...", role markers, chat-template tokens); :func:`split_withheld`
  separates them from the rest of a text so they are never shown to the model, and
  verification refuses any report sentence whose words come only from them;
* :func:`has_link_or_markup` recognises URLs, Markdown links and HTML tags, which no
  report sentence may carry (a Markdown viewer would turn a bare URL into a link).
"""

from __future__ import annotations

import re

from ..text import strip_controls
from ..text import words as text_words
from .sentences import split_sentences

_FENCE_RUN = re.compile(r"<{2,}|>{2,}")

_INSTRUCTION_PATTERNS = [
    # "ignore / disregard / forget (all) (the) previous instructions"
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}?"
    r"\b(?:instructions?|prompts?|rules|directions|directives|guidelines|context|system)\b",
    r"\b(?:system|developer)\s+(?:prompt|message|instructions?)\b",
    r"\bnew\s+instructions?\b",
    r"\byou\s+are\s+(?:now\s+)?(?:an?\s+)?(?:ai|assistant|language\s+model|chat\s*bot|llm|gpt)\b",
    r"\bas\s+an?\s+(?:ai|language\s+model|assistant)\b",
    r"\b(?:respond|reply|answer|output|print|write|say)\s+(?:only\s+)?(?:with\s+)?[\"'“‘«][^\"'”’»]{1,80}[\"'”’»]",
    r"(?:^|\s)(?:system|assistant|user)\s*:",
    r"<\|[a-z_]+\|>|\[/?INST\]|<</?SYS>>|###\s*(?:instruction|system|response)",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.IGNORECASE)

_LINK_OR_MARKUP = re.compile(
    r"\b[a-z][a-z0-9+.-]*://"  # any URL scheme
    r"|\bwww\.[a-z0-9-]"  # a bare web address
    r"|\b(?:javascript|data|vbscript|file|mailto):"  # active pseudo-schemes
    r"|\]\s*\("  # Markdown link or image: [text](target)
    r"|!\["  # Markdown image
    r"|<\s*/?\s*[a-z!?][^>]*>"  # an HTML tag, comment or processing instruction
    r"|&[a-z]+;|&#\d+;"  # HTML entities
    r"|`",  # code spans
    re.IGNORECASE,
)


def strip_hidden(text: str) -> str:
    """``text`` without invisible format characters and control characters (newlines kept)."""
    return strip_controls(text, hidden=True, keep="\n\t")


def neutralise_fences(text: str) -> str:
    """``text`` with no run of two or more ``<`` or ``>``, so it cannot forge a fence."""
    return _FENCE_RUN.sub(lambda m: ("«" if m.group(0)[0] == "<" else "»") * len(m.group(0)), text)


def instruction_like(sentence: str) -> bool:
    """Whether a sentence of an article reads like an instruction addressed to a model."""
    return bool(_INSTRUCTION.search(strip_hidden(sentence)))


def split_withheld(text: str) -> tuple[str, list[str]]:
    """(the text without instruction-like sentences, those sentences), paragraphs kept."""
    kept_paras: list[str] = []
    withheld: list[str] = []
    for para in strip_hidden(text).split("\n"):
        kept: list[str] = []
        for sentence in split_sentences(para):
            (withheld if instruction_like(sentence) else kept).append(sentence)
        if kept:
            kept_paras.append(" ".join(kept))
    return "\n".join(kept_paras), withheld


def has_link_or_markup(text: str) -> bool:
    """Whether ``text`` carries a URL, a Markdown link or image, an HTML tag or entity, or code."""
    return bool(_LINK_OR_MARKUP.search(text))


def words(text: str) -> set[str]:
    """The lower-cased word tokens of ``text``."""
    return set(text_words(text))
