"""One :class:`Report` -> HTML, PDF, Markdown and JSON.

Web text is data in every format: Jinja2 autoescapes every HTML template (by our own
rule, because ``select_autoescape()`` would not escape a file named ``*.html.j2``),
Markdown gets its own escaping, links are emitted only for http(s) URLs, and the PDF
is rendered with a URL fetcher that reads nothing but ``data:`` URLs and the project's
own template assets, so no local file or internal address can end up in a PDF.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from .errors import ReportError
from .models import BUCKETS, Report, Sentence

FORMATS = ("html", "pdf", "md", "json")
BUCKET_LABELS = {
    "security": "Security",
    "economy": "Economy",
    "diplomacy": "Diplomacy",
    "defense": "Defense",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def _autoescape(name: str | None) -> bool:
    """Escape everything except the plain-text and Markdown templates."""
    return not (name or "").endswith((".md.j2", ".txt.j2"))


def md_escape(value: object) -> str:
    """Text safe to put in Markdown: no markup, links, headings or HTML survive from it."""
    text = " ".join(str(value).split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^(\d+)\.", r"\1\\.", text)  # "1. x" would start a list
    return re.sub(r"^([-+=])", r"\\\1", text)


def safe_url(value: object) -> str:
    """The URL when it is http(s), else an inert fragment."""
    url = str(value).strip()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return "#"
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _cite_html(sentence: Sentence) -> Markup:
    """A sentence with its citations linked to the annex; an assessment labelled and set apart."""
    parts = [Markup('<a class="cite" href="#ref-{n}">{n}</a>').format(n=n) for n in sentence.citations]
    cited = Markup('{text} <span class="cites">[{refs}]</span>').format(
        text=escape(sentence.text), refs=Markup(", ").join(parts)
    )
    if not sentence.label:
        return cited
    labelled = '<span class="assessment"><span class="assessment-label">{label}:</span> {cited}</span>'
    return Markup(labelled).format(label=sentence.label, cited=cited)


def _cite_md(sentence: Sentence) -> str:
    refs = ", ".join(str(n) for n in sentence.citations)
    head = f"*{md_escape(sentence.label)}:* " if sentence.label else ""
    return f"{head}{md_escape(sentence.text)} \\[{refs}\\]"


def _fmt_day(value: Any) -> str:
    return f"{value:%B} {value.day}, {value:%Y}"


def environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["url"] = safe_url
    env.filters["cite_html"] = _cite_html
    env.filters["cite_md"] = _cite_md
    env.filters["day"] = _fmt_day
    env.globals["bucket_labels"] = BUCKET_LABELS
    return env


def _context(report: Report, zone: ZoneInfo) -> dict[str, Any]:
    groups: dict[str, list[Any]] = {b: [] for b in BUCKETS}
    groups["other"] = []
    for entry in report.annex:
        groups[entry.bucket or "other"].append(entry)
    failing = [f for f in report.coverage.feeds if f.status == "failing"]
    return {
        "r": report,
        "zone": zone,
        "generated": report.generated_at.astimezone(zone),
        "annex_groups": [(k, v) for k, v in groups.items() if v],
        "failing": failing,
        "label": lambda b: BUCKET_LABELS.get(b, "Other"),
    }


def render_html(report: Report, templates_dir: Path, zone: ZoneInfo, *, for_pdf: bool = False) -> str:
    env = environment(templates_dir)
    return env.get_template("report.html.j2").render(for_pdf=for_pdf, **_context(report, zone))


def render_markdown(report: Report, templates_dir: Path, zone: ZoneInfo) -> str:
    env = environment(templates_dir)
    return env.get_template("report.md.j2").render(**_context(report, zone))


def _pdf_fetcher(templates_dir: Path) -> Any:
    """A WeasyPrint URL fetcher that refuses everything but data: and our own assets."""
    from weasyprint.urls import URLFetcher

    root = templates_dir.resolve()

    class ProjectOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(urlsplit(url).path).resolve()
                if path.is_relative_to(root / "assets"):
                    return super().fetch(url, headers)
            raise ValueError(f"blocked while rendering the PDF: {url[:100]}")

    return ProjectOnlyFetcher(allowed_protocols=("data", "file"))


def render_pdf(report: Report, templates_dir: Path, zone: ZoneInfo) -> bytes:
    try:
        import weasyprint
    except OSError as exc:  # missing Pango and friends
        raise ReportError(f"WeasyPrint cannot load its system libraries: {exc}") from exc
    html = render_html(report, templates_dir, zone, for_pdf=True)
    doc = weasyprint.HTML(
        string=html,
        base_url=(templates_dir.resolve() / "assets").as_uri() + "/",
        url_fetcher=_pdf_fetcher(templates_dir),
    )
    pdf = doc.write_pdf()
    if not isinstance(pdf, bytes):
        raise ReportError("WeasyPrint returned no PDF")
    return pdf


def render(report: Report, fmt: str, templates_dir: Path, zone: ZoneInfo) -> bytes:
    """One format of the report, as the bytes to write; :class:`ReportError` naming what failed."""
    try:
        return _render(report, fmt, templates_dir, zone)
    except jinja2.TemplateError as exc:
        where = f" ({exc.name}, line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise ReportError(f"{fmt} template in {templates_dir}: {exc}{where}") from exc
    except OSError as exc:
        raise ReportError(f"{fmt}: cannot read the templates in {templates_dir}: {exc}") from exc


def _render(report: Report, fmt: str, templates_dir: Path, zone: ZoneInfo) -> bytes:
    if fmt == "html":
        return render_html(report, templates_dir, zone).encode("utf-8")
    if fmt == "md":
        return render_markdown(report, templates_dir, zone).encode("utf-8")
    if fmt == "json":
        return report.to_json().encode("utf-8")
    if fmt == "pdf":
        return render_pdf(report, templates_dir, zone)
    raise ReportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
