"""One :class:`Report` -> HTML, PDF, Markdown and JSON.

Web text is data in every format: Jinja2 autoescapes every HTML template (by our own
rule, because ``select_autoescape()`` would not escape a file named ``*.html.j2``),
Markdown gets its own escaping, links are emitted only for http(s) URLs, and the PDF
is rendered with a URL fetcher that reads nothing but ``data:`` URLs and the project's
own template assets, so no local file or internal address can end up in a PDF.
"""

from __future__ import annotations

import json
import re
from collections import Counter
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
    parts = [Markup('<a class="cite" href="#ref-{n}">{n}</a>').format(n=n) for n in sentence.cites]
    return Markup('{text} <span class="cites">[{refs}]</span>').format(
        text=escape(sentence.text), refs=Markup(", ").join(parts)
    )


def _cite_md(sentence: Sentence) -> str:
    refs = ", ".join(str(n) for n in sentence.cites)
    return f"{md_escape(sentence.text)} \\[{refs}\\]"


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
        "outlets": _outlets(report),
        "failing": failing,
        "label": lambda b: BUCKET_LABELS.get(b, "Other"),
    }


def _outlets(report: Report) -> list[tuple[tuple[str, str], int]]:
    """(outlet, domain) -> items of the period, most items first: the annex's outlet table."""
    counts = Counter((item.source, item.domain) for item in report.items)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def render_html(report: Report, templates_dir: Path, zone: ZoneInfo, *, for_pdf: bool = False) -> str:
    env = environment(templates_dir)
    return env.get_template("report.html.j2").render(for_pdf=for_pdf, **_context(report, zone))


def render_markdown(report: Report, templates_dir: Path, zone: ZoneInfo) -> str:
    env = environment(templates_dir)
    return env.get_template("report.md.j2").render(**_context(report, zone))


def _joined(sentences: list[Sentence]) -> str:
    return " ".join(f"{s.text} [{', '.join(str(n) for n in s.cites)}]" for s in sentences)


def report_json(report: Report, zone: ZoneInfo) -> dict[str, Any]:
    """The report as data (SPEC §3 ``report.json``), with every sentence's citations."""

    def sentences(ss: list[Sentence]) -> list[dict[str, Any]]:
        return [{"text": s.text, "citations": s.cites} for s in ss]

    annex_by_item = {a.item_id: a for a in report.annex}

    def source_ref(item_id: int) -> dict[str, Any]:
        a = annex_by_item[item_id]
        return {
            "url": a.url,
            "title": a.title,
            "source": a.source,
            "published": a.published.isoformat(),
            "citation": a.number,
        }

    outlook = report.outlook
    return {
        "schema_version": 1,
        "title": report.title,
        "region": report.region,
        "period": {"start": report.period_start.isoformat(), "end": report.period_end.isoformat()},
        "generated_at": report.generated_at.astimezone(zone).isoformat(timespec="seconds"),
        "engine": report.engine,
        "model": report.model,
        "executive_summary": _joined(report.executive_summary),
        "executive_summary_sentences": sentences(report.executive_summary),
        "developments": [
            {
                "title": d.title.text,
                "title_citations": d.title.cites,
                "summary": _joined(d.sentences),
                "sentences": sentences(d.sentences),
                "buckets": d.buckets,
                "status": d.status,
                "previous": d.previous,
                "score": d.score,
                "story": d.story_id,
                "sources": [
                    source_ref(i)
                    for i in dict.fromkeys([*d.title.item_ids, *(i for s in d.sentences for i in s.item_ids)])
                ],
            }
            for d in report.developments
        ],
        "sections": {
            "geopolitical": " ".join(_joined(b.sentences) for b in report.geopolitical).strip(),
            "geopolitical_blocks": [
                {"heading": b.heading, "sentences": sentences(b.sentences), "empty": b.empty_note}
                for b in report.geopolitical
            ],
            "military": " ".join(_joined(b.sentences) for b in report.military).strip(),
            "military_blocks": [
                {"heading": b.heading, "sentences": sentences(b.sentences), "empty": b.empty_note}
                for b in report.military
            ],
            "outlook": {
                "calendar": [
                    {
                        "when": e.when,
                        "date": e.sort_key.isoformat(),
                        "text": e.sentence.text,
                        "citations": e.sentence.cites,
                    }
                    for e in outlook.calendar
                ],
                "flashpoints": _joined(outlook.flashpoints),
                "indicators": outlook.indicators,
                "previous_indicators": outlook.previous_indicators,
                "recommendations": _joined(outlook.recommendations),
            },
        },
        "items": [
            {
                "url": i.url,
                "title": i.title,
                "source": i.source,
                "published": i.published.isoformat(),
                "buckets": i.buckets,
                "primary_bucket": i.primary,
                "cluster": i.cluster,
                "copy_of": i.copy_of,
                "relevance": i.relevance,
                "evidence": i.evidence,
            }
            for i in report.items
        ],
        "sources": [
            {"name": name, "domain": domain, "items": n}
            for (name, domain), n in _outlets(report)
        ],
        "annex": [
            {
                "number": a.number,
                "title": a.title,
                "url": a.url,
                "source": a.source,
                "domain": a.domain,
                "published": a.published.isoformat(),
                "reliability": a.reliability,
                "bucket": a.bucket,
            }
            for a in report.annex
        ],
        "coverage": report.coverage.model_dump(mode="json"),
        "notes": report.notes,
    }


def render_json(report: Report, zone: ZoneInfo) -> str:
    return json.dumps(report_json(report, zone), ensure_ascii=False, indent=2) + "\n"


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
        return render_json(report, zone).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(report, templates_dir, zone)
    raise ReportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
