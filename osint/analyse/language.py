"""The report's language, and the language of what it quotes and of the headlines it takes.

The report is written in English. A development is headed by its best English member's
title, a sentence in another language is quoted only when its story has none in English,
and whatever is shown in another language is marked with that language's name.
"""

from __future__ import annotations

from ..models import Item, Story
from ..text import language_of

REPORT_LANGUAGE = "en"


def language_name(code: str) -> str:
    """The English name of a language code ("ru" -> "Russian"), the code itself if unknown."""
    from babel import Locale

    return str(Locale("en").languages.get(code, code)) if code else ""


def item_language(item: Item) -> str:
    """An item's language; a Latin-script title without a tag is taken to be English."""
    found = language_of(item.language, item.title)
    return "en" if found == "latin" else found


def sentence_language(text: str, item: Item) -> str:
    """A quoted sentence's language: its script's, named by its item's tag when that fits.

    A Latin-script sentence is taken to be in the report's language; one in another script
    is in its item's language (a Russian article's sentence is Russian) unless the item is
    tagged with the report's language, when the script's name stands for it.
    """
    script = language_of(None, text)
    if script in ("latin", ""):
        return REPORT_LANGUAGE
    own = item_language(item)
    return own if own != REPORT_LANGUAGE else script


def headline_item(story: Story, items: dict[int, Item]) -> tuple[Item, str | None]:
    """The item whose title heads a story, and its language's name when not the report's.

    The story's lead item speaks first; when it is in another language, the first member
    in the report's language (earliest, then most reliable) heads instead, and only a
    story with no such member is headed in its own language, marked as such.
    """
    lead = items[story.canonical_id]
    if item_language(lead) == REPORT_LANGUAGE:
        return lead, None
    for item_id in story.item_ids:
        if item_language(items[item_id]) == REPORT_LANGUAGE:
            return items[item_id], None
    return lead, language_name(item_language(lead)) or None
