"""One :class:`Report` -> HTML, PDF, Markdown and JSON.

Web text is data in every format: the templates' environment (:mod:`osint.templating`)
autoescapes HTML, escapes Markdown and emits links only for http(s) URLs, and the PDF
is rendered with a URL fetcher that reads nothing but ``data:`` URLs and the project's
own template assets, so no local file or internal address can end up in a PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2

from .errors import ReportError
from .models import BUCKETS, Report
from .templating import BUCKET_LABELS, environment

FORMATS = ("html", "pdf", "md", "json")


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
