"""Distribute: build the report email (pure) and send it over SMTP (stdlib only).

The message is built from the files a report run wrote — ``report.json`` for the HTML
body and the subject, the Markdown file as the plain-text part, the PDF attached — so
``osint send FILE`` and ``osint run`` mail exactly what is on disk, and only complete
files (they are written atomically).

Web text never reaches a header raw: every header value made from report data goes
through :func:`header_text`, which drops control and line-break characters and breaks
RFC 2047 encoded-word openers (``=?``) that a mail library or client would otherwise
decode into new lines. The HTML body comes from an autoescaped template with inline
styles, because mail clients drop ``<style>`` blocks.

Sending retries what is transient (no connection, 421, 451 and other 4xx answers) with
a doubling delay, reports a refused login plainly, and answers "552 too large" by
sending again without the PDF and saying where the PDF is.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from .errors import ConfigError, DeliveryError
from .models import Report
from .retry import RetryPolicy
from .settings import Settings
from .templating import environment
from .text import fold_space, has_controls, strip_controls

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
SUBJECT_LIMIT = 200


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailConfig:
    """How to reach the mail server and whom to send to; built from settings once."""

    host: str | None
    port: int
    security: Security
    sender: str
    recipients: tuple[str, ...]
    mode: Literal["to", "bcc"] = "bcc"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    timeout: float = 60.0
    attempts: int = 4
    retry_delay: float = 30.0
    reports_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, need_server: bool = True) -> MailConfig:
        """Validate the mail settings; ``need_server=False`` for ``--dry-run``."""
        if need_server and not settings.smtp_host:
            raise ConfigError("mail is not configured: set OSINT_SMTP_HOST and OSINT_MAIL_TO")
        recipients = tuple(
            check_address(a, "OSINT_MAIL_TO", display_name=True) for a in settings.recipients()
        )
        if need_server and not recipients:
            raise ConfigError("mail is not configured: OSINT_MAIL_TO names no recipient")
        if settings.mail_from:
            sender = check_address(settings.mail_from, "OSINT_MAIL_FROM", display_name=True)
        elif need_server:
            raise ConfigError("OSINT_MAIL_FROM is not set (the address reports are sent from)")
        else:
            sender = "osint@localhost"
        if settings.smtp_user and not settings.smtp_password:
            raise ConfigError("OSINT_SMTP_USER is set but OSINT_SMTP_PASSWORD is not")
        if settings.mail_attempts < 1:
            raise ConfigError("OSINT_MAIL_ATTEMPTS must be at least 1")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_security],
            security=settings.smtp_security,
            sender=sender,
            recipients=recipients,
            mode=settings.mail_mode,
            user=settings.smtp_user,
            password=settings.smtp_password,
            ca_file=settings.smtp_ca_file,
            timeout=settings.smtp_timeout,
            attempts=settings.mail_attempts,
            retry_delay=settings.mail_retry_delay,
            reports_url=settings.reports_url,
        )

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]


def check_address(value: str, setting: str, *, display_name: bool = False) -> str:
    """An address from the settings, refused when it could smuggle a header or is malformed."""
    text = value.strip()
    if has_controls(text, hidden=True):
        raise ConfigError(f"{setting}: {text!r} contains control characters")
    name, addr = parseaddr(text)
    if not addr or "@" not in addr or (name and not display_name) or " " in addr:
        raise ConfigError(f"{setting}: {text!r} is not an email address")
    local, _, domain = addr.rpartition("@")
    if not local or not domain or "," in addr:
        raise ConfigError(f"{setting}: {text!r} is not an email address")
    return text


# --------------------------------------------------------------------------- the message (pure)


@dataclass(frozen=True)
class ReportFiles:
    """The files of one written report, found beside each other by their common stem."""

    stem: str
    json: Path
    html: Path | None
    md: Path | None
    pdf: Path | None

    @classmethod
    def beside(cls, path: Path) -> ReportFiles:
        """The report that ``path`` (any of its files, or the stem) belongs to."""
        stem = path.name
        for ext in (".json", ".html", ".pdf", ".md", ".eml"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
                break
        folder = path.parent

        def found(ext: str) -> Path | None:
            p = folder / f"{stem}.{ext}"
            return p if p.is_file() else None

        json_path = found("json")
        if json_path is None:
            raise DeliveryError(f"{folder / stem}.json not found: a report is sent from its JSON file")
        return cls(stem, json_path, found("html"), found("md"), found("pdf"))


@dataclass(frozen=True)
class LoadedReport:
    """What a message is built from: the report as data, its text and its PDF."""

    files: ReportFiles
    doc: Report
    text: str
    pdf: bytes | None


def load_report(files: ReportFiles) -> LoadedReport:
    try:
        doc = Report.from_json(files.json.read_bytes())
    except OSError as exc:
        raise DeliveryError(f"{files.json}: cannot read ({exc.strerror or exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DeliveryError(
            f"{files.json}: not a report JSON file ({exc.error_count()} problem(s); {where}: {first['msg']})"
        ) from exc
    text = files.md.read_text(encoding="utf-8") if files.md else doc.executive_summary
    pdf = files.pdf.read_bytes() if files.pdf else None
    return LoadedReport(files, doc, text, pdf)


def header_text(value: object, limit: int = SUBJECT_LIMIT) -> str:
    """Text safe to put in a header: one line, no encoded-words, bounded length.

    CR, LF and every other control or invisible formatting character become spaces;
    ``=?`` (the start of an RFC 2047 encoded-word, which a parser would decode, line
    breaks included) becomes ``= ?``; runs of space collapse.
    """
    text = unicodedata.normalize("NFC", str(value))
    text = strip_controls(text, hidden=True, keep="", replacement=" ")
    text = fold_space(text.replace("=?", "= ?"))
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def period_text(start: Any, end: Any) -> str:
    """``6–13 March 2026``, ``27 February – 5 March 2026``, ``29 December 2025 – 4 January 2026``."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


def subject_for(doc: Report) -> str:
    return header_text(f"{doc.title}: {period_text(doc.period.start, doc.period.end)}")


def render_email_html(report: LoadedReport, templates_dir: Path, zone: ZoneInfo, note: str | None) -> str:
    """The report as an email body: the same sections, inline styles, citations as links."""
    doc = report.doc
    failing = [f for f in doc.coverage.feeds if f.status == "failing"]
    return (
        environment(templates_dir)
        .get_template("email.html.j2")
        .render(
            r=doc,
            period=period_text(doc.period.start, doc.period.end),
            generated=doc.generated_at.astimezone(zone),
            urls={a.number: a.url for a in doc.annex},
            zone=zone,
            failing=failing,
            note=note,
            has_pdf=report.pdf is not None and note is None,
        )
    )


def _attachment_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:120] + ".pdf"


def build_message(
    report: LoadedReport,
    config: MailConfig,
    recipients: Sequence[str],
    *,
    templates_dir: Path,
    zone: ZoneInfo,
    now: datetime | None = None,
    attach_pdf: bool = True,
    note: str | None = None,
) -> EmailMessage:
    """The whole message: text and HTML alternatives, the PDF attached (pure; nothing sent).

    In ``bcc`` mode the recipients appear in no header (only in the SMTP envelope).
    """
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject_for(report.doc)
    msg["From"] = config.sender
    if config.mode == "to" and recipients:
        msg["To"] = ", ".join(recipients)
    else:
        msg["To"] = "undisclosed-recipients:;"
    msg["Date"] = format_datetime((now or datetime.now(UTC)).astimezone(zone))
    domain = config.envelope_sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring="osint", domain=header_text(domain, 100).replace(" ", ""))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    text = report.text if note is None else f"{note}\n\n{report.text}"
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(render_email_html(report, templates_dir, zone, note), subtype="html", charset="utf-8")
    if attach_pdf and report.pdf is not None:
        msg.add_attachment(
            report.pdf, maintype="application", subtype="pdf", filename=_attachment_name(report.files.stem)
        )
    return msg


# --------------------------------------------------------------------------- sending


@dataclass
class DeliveryResult:
    """What a send achieved: who has the message, who refused it and why."""

    message_id: str
    accepted: list[str]
    refused: dict[str, str]
    pdf_omitted: bool = False
    pdf_location: str | None = None
    attempts: int = 1


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, ssl.SSLError | smtplib.SMTPException):
        return False  # a TLS or protocol problem does not go away by waiting
    return isinstance(exc, OSError)


def _too_large(exc: BaseException) -> bool:
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 552


def _describe(exc: BaseException, config: MailConfig) -> str:
    where = f"{config.host}:{config.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the mail server {where} refused the login of {config.user!r} ({_answer(exc)})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{where} refused every recipient: " + "; ".join(
            f"{r} ({code} {_decode(msg)})" for r, (code, msg) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} answered {_answer(exc)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS with {where} failed: {exc.verify_message} (set OSINT_SMTP_CA_FILE for a private CA)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc} (is OSINT_SMTP_SECURITY right for this port?)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection ({exc})"
    if isinstance(exc, OSError):
        return f"cannot connect to the mail server {where} ({exc.strerror or exc})"
    return f"{where}: {exc}"


def _decode(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return fold_space(text)


def _answer(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_decode(exc.smtp_error)}"


def _tls_context(config: MailConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if config.ca_file:
        try:
            context.load_verify_locations(cafile=str(config.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"OSINT_SMTP_CA_FILE {config.ca_file}: cannot load ({exc})") from exc
    return context


def _connect(config: MailConfig) -> smtplib.SMTP:
    assert config.host is not None
    if config.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=_tls_context(config)
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=_tls_context(config))
            client.ehlo()
        if config.user:
            if config.security == "none":
                log.warning(
                    "OSINT_SMTP_USER is set with OSINT_SMTP_SECURITY=none: the password crosses in clear"
                )
            client.login(config.user, config.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _send_once(config: MailConfig, data: bytes, recipients: Sequence[str]) -> dict[str, str]:
    client = _connect(config)
    try:
        refused = client.sendmail(config.envelope_sender, list(recipients), data)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
    return {r: f"{code} {_decode(msg)}" for r, (code, msg) in refused.items()}


def send_bytes(
    config: MailConfig,
    data: bytes,
    recipients: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, str], int]:
    """Send one flattened message, retrying transient failures; (refused, attempts made).

    The waits double from ``retry_delay`` (no jitter: one sender, one server). A 552
    answer is raised at once (the caller decides to drop the attachment); any other
    permanent failure, or a transient one that outlasts the attempts, becomes a
    :class:`DeliveryError` that says what the server said.
    """
    made = 0

    def attempt() -> dict[str, str]:
        nonlocal made
        made += 1
        return _send_once(config, data, recipients)

    policy = RetryPolicy(
        attempts=config.attempts, backoff=config.retry_delay, jitter=False, max_wait=float("inf")
    )
    try:
        refused = policy.call(
            attempt,
            retry_if=_transient,
            sleep=sleep,
            what=f"mail server {config.host}:{config.port}",
            describe=lambda exc: _describe(exc, config),
        )
    except smtplib.SMTPResponseException as exc:
        if _too_large(exc):
            raise
        raise DeliveryError(_describe(exc, config)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(_describe(exc, config)) from exc
    return refused, made


def pdf_location(report: LoadedReport, reports_url: str | None) -> str:
    """Where a reader finds the PDF that was too large to mail: its URL, else its path."""
    pdf = report.files.pdf
    name = pdf.name if pdf else f"{report.files.stem}.pdf"
    if reports_url:
        return reports_url.rstrip("/") + "/" + name
    return str(pdf.resolve() if pdf else report.files.json.parent.resolve() / name)


def deliver(
    report: LoadedReport,
    config: MailConfig,
    recipients: Sequence[str],
    *,
    templates_dir: Path,
    zone: ZoneInfo,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> DeliveryResult:
    """Build and send the report to ``recipients``; without the PDF if the server says 552."""
    msg = build_message(report, config, recipients, templates_dir=templates_dir, zone=zone, now=now)
    try:
        refused, attempts = send_bytes(config, msg.as_bytes(), recipients, sleep=sleep)
        omitted, where = False, None
    except smtplib.SMTPResponseException as exc:
        if report.pdf is None:
            raise DeliveryError(_describe(exc, config)) from exc
        where = pdf_location(report, config.reports_url)
        log.warning("%s; sending without the PDF (it is at %s)", _describe(exc, config), where)
        note = (
            f"The PDF of this report was too large for the mail server ({len(report.pdf) / 1e6:.1f} MB), "
            f"so it is not attached. It is at: {where}"
        )
        msg = build_message(
            report,
            config,
            recipients,
            templates_dir=templates_dir,
            zone=zone,
            now=now,
            attach_pdf=False,
            note=note,
        )
        try:
            refused, attempts = send_bytes(config, msg.as_bytes(), recipients, sleep=sleep)
        except smtplib.SMTPResponseException as again:
            raise DeliveryError(_describe(again, config) + " (even without the PDF)") from again
        omitted = True
    accepted = [r for r in recipients if r not in refused]
    return DeliveryResult(str(msg["Message-ID"]), accepted, refused, omitted, where, attempts)


def recipient_address(recipient: str) -> str:
    """The bare address of a configured recipient (the key sends are recorded under)."""
    return parseaddr(recipient)[1].lower()
