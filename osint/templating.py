"""The Jinja2 environment every template of the project is rendered in (report, email, archive, desk).

Web text is data: every HTML template is autoescaped (by our own rule, because
``select_autoescape()`` would not escape a file named ``*.html.j2``), Markdown gets its
own escaping (:func:`md_escape`), links are emitted only for http(s) URLs
(:func:`safe_url`), and a sentence is shown with its citations and, when it is an
assessment, its label. Shared here so the stages that render (render, archive,
distribute, the desk) do not import each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup, escape

from .models import Sentence
from .text import fold_space

BUCKET_LABELS = {
    "security": "Security",
    "economy": "Economy",
    "diplomacy": "Diplomacy",
    "defense": "Defense",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def autoescape(name: str | None) -> bool:
    """Escape everything except the plain-text and Markdown templates."""
    return not (name or "").endswith((".md.j2", ".txt.j2"))


def md_escape(value: object) -> str:
    """Text safe to put in Markdown: no markup, links, headings or HTML survive from it."""
    text = fold_space(str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^(\d+)\.", r"\1\\.", text)  # "1. x" would start a list
    return re.sub(r"^([-+=])", r"\\\1", text)


def safe_url(value: object) -> str:
    """The URL when it is http(s), else an inert fragment."""
    url = str(value).strip()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return "#"
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def cite_html(sentence: Sentence) -> Markup:
    """A sentence with its citations linked to the annex; an assessment labelled and set apart."""
    parts = [Markup('<a class="cite" href="#ref-{n}">{n}</a>').format(n=n) for n in sentence.citations]
    language = (
        Markup(' <span class="language">{note}</span>').format(note=sentence.language_note)
        if sentence.language
        else ""
    )
    cited = (
        Markup('{text}{language} <span class="cites">[{refs}]</span>').format(
            text=escape(sentence.text), language=language, refs=Markup(", ").join(parts)
        )
        if parts
        else Markup("{text}{language}").format(text=escape(sentence.text), language=language)
    )  # an analyst's uncited paragraph: no empty brackets
    if not sentence.label:
        return cited
    labelled = '<span class="{kind}"><span class="{kind}-label">{label}:</span> {cited}</span>'
    return Markup(labelled).format(kind=sentence.kind, label=sentence.label, cited=cited)


def cite_md(sentence: Sentence) -> str:
    refs = f" \\[{', '.join(str(n) for n in sentence.citations)}\\]" if sentence.citations else ""
    head = f"*{md_escape(sentence.label)}:* " if sentence.label else ""
    note = f" {md_escape(sentence.language_note)}" if sentence.language else ""
    return f"{head}{md_escape(sentence.text)}{note}{refs}"


def fmt_day(value: Any) -> str:
    return f"{value:%B} {value.day}, {value:%Y}"


def environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["url"] = safe_url
    env.filters["cite_html"] = cite_html
    env.filters["cite_md"] = cite_md
    env.filters["day"] = fmt_day
    env.globals["bucket_labels"] = BUCKET_LABELS
    return env
