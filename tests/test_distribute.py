"""Email: the message as built, and as a real SMTP server on 127.0.0.1 receives it.

Every send goes to aiosmtpd on loopback: plain, STARTTLS with a throwaway CA (trustme),
implicit TLS, AUTH, and each failure the sender must handle. Retries never wait: the
sender's ``sleep`` is a recorder (or brings the server up, for "refused, then back").
"""

from __future__ import annotations

import email
import socket
import sqlite3
import ssl
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import trustme

from osint.distribute import (
    LoadedReport,
    MailConfig,
    ReportFiles,
    build_message,
    deliver,
    header_text,
    load_report,
)
from osint.errors import ConfigError, DeliveryError
from osint.models import Sentence
from osint.settings import Settings

from .conftest import invoke
from .mailserver import PASSWORD, USER, Handler, authenticator, mail_env, reserve_port, smtp_server
from .reportfiles import PDF, STEM, write_report

HOSTILE_TITLES = [
    "Weekly brief\r\nBcc: spy@evil.test",
    "Weekly brief\nX-Injected: yes",
    "Weekly =?utf-8?q?brief=0D=0ABcc:_spy@evil.test?= report",
    "Weekly =?utf-8?b?YnJpZWYNCkJjYzogc3B5QGV2aWwudGVzdA==?= report",
    "Weekly brief\u2028Bcc: spy@evil.test\x00\x1b[31m",
]


@pytest.fixture
def report(tmp_path: Path) -> LoadedReport:
    return load_report(ReportFiles.beside(write_report(tmp_path / "reports")))


def mail_settings(port: int = 25, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "mail_from": "OSINT desk <osint@example.org>",
        "mail_to": "analyst@example.org, Chief <chief@example.org>",
        "mail_retry_delay": 1.0,
        "smtp_timeout": 10.0,
        **extra,
    }
    return Settings(**values)


def config(port: int = 25, **extra: Any) -> MailConfig:
    return MailConfig.from_settings(mail_settings(port, **extra))


def send(report: LoadedReport, cfg: MailConfig, sleeps: list[float] | None = None) -> Any:
    settings = Settings()
    return deliver(
        report,
        cfg,
        cfg.recipients,
        templates_dir=settings.templates_dir,
        zone=settings.zone(),
        sleep=(sleeps if sleeps is not None else []).append,
    )


def build(report: LoadedReport, cfg: MailConfig, **kw: Any) -> EmailMessage:
    settings = Settings()
    return build_message(
        report, cfg, cfg.recipients, templates_dir=settings.templates_dir, zone=settings.zone(), **kw
    )


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls(ca: trustme.CA, tmp_path: Path) -> Iterator[tuple[ssl.SSLContext, Path]]:
    """A server context with a certificate for 127.0.0.1, and the CA file a client must trust."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield server, ca_file


# --------------------------------------------------------------------------- the message


def test_message_parts_and_headers(report: LoadedReport) -> None:
    msg = build(report, config(), now=datetime(2026, 3, 16, 6, tzinfo=UTC))
    assert msg["Subject"] == "Mongolia Security Analysis Report: 9–15 March 2026"
    assert msg["From"] == "OSINT desk <osint@example.org>"
    assert msg["To"] == "undisclosed-recipients:;"
    assert "Bcc" not in msg and "Cc" not in msg
    assert b"analyst@example.org" not in msg.as_bytes()  # bcc: recipients only in the envelope
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"] == "Mon, 16 Mar 2026 14:00:00 +0800"
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    text = msg.get_body(("plain",))
    assert text is not None and "A planning meeting opened" in text.get_content()
    (pdf,) = list(msg.iter_attachments())
    assert pdf.get_filename() == f"{STEM}.pdf"
    assert pdf.get_content() == PDF


def test_to_mode_names_the_recipients(report: LoadedReport) -> None:
    msg = build(report, config(mail_mode="to"))
    assert msg["To"] == "analyst@example.org, Chief <chief@example.org>"


def test_html_body_is_inline_styled_and_inert(tmp_path: Path) -> None:
    path = write_report(
        tmp_path,
        dev_title='<script>alert(1)</script><img src=x onerror="alert(2)">Quest',
        annex_url="javascript:alert(3)",
    )
    loaded = load_report(ReportFiles.beside(path))
    html_part = build(loaded, config()).get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//style | //script | //img | //link | //iframe")
    assert not doc.xpath("//@*[starts-with(name(), 'on')]")
    assert "<script>alert(1)</script>" in doc.text_content()  # shown as text
    hrefs = doc.xpath("//a/@href")
    assert hrefs and all(h == "#" or h.startswith("https://") for h in hrefs)
    unstyled = [
        e.tag
        for e in doc.xpath("//body//p | //body//h1 | //body//h2 | //body//h3 | //body//td")
        if not e.get("style")
    ]
    assert not unstyled
    assert "Cyberattacks continue." in html and "Border trade grows." in html


def test_an_assessment_is_labelled_in_the_email_and_flashpoints_keep_their_citations(tmp_path: Path) -> None:
    judged = Sentence(
        text="Talks are likely to stall.", item_ids=[7], citations=[1], kind="assessment", author="a.analyst"
    )
    loaded = load_report(ReportFiles.beside(write_report(tmp_path, assessment=judged)))
    html_part = build(loaded, config()).get_body(("html",))
    assert html_part is not None
    doc = lxml.html.fromstring(html_part.get_content())
    (label,) = doc.xpath("//strong[starts-with(text(), 'Assessment')]")
    assert label.text == "Assessment (a.analyst):"
    assert "Talks are likely to stall." in label.getparent().text_content()
    flashpoints = doc.xpath("//h3[contains(., 'flashpoints')]/following-sibling::ul[1]/li")
    assert [" ".join(li.text_content().split()) for li in flashpoints] == [
        "Cyberattacks continue. [1]",
        "Border trade grows. [1]",
    ]
    assert all(li.xpath(".//a/@href") == ["https://montsame.mn/en/read/1"] for li in flashpoints)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_header_text_is_one_inert_line(title: str) -> None:
    text = header_text(title)
    assert "\n" not in text and "\r" not in text and "=?" not in text
    assert all(c.isprintable() for c in text)


@pytest.mark.parametrize(
    "setting",
    [
        {"mail_to": "a@example.org\r\nBcc: x@evil.test"},
        {"mail_to": "not-an-address"},
        {"mail_from": "osint@example.org\nX-Evil: 1"},
    ],
)
def test_bad_addresses_are_config_errors(setting: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        config(**setting)


# --------------------------------------------------------------------------- sending


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_title_injects_no_header_into_the_received_message(tmp_path: Path, title: str) -> None:
    loaded = load_report(ReportFiles.beside(write_report(tmp_path, title=title)))
    handler = Handler()
    with smtp_server(handler) as port:
        result = send(loaded, config(port))
    (got,) = handler.received
    assert sorted(got.rcpt_tos) == ["analyst@example.org", "chief@example.org"]
    assert result.accepted == ["analyst@example.org", "Chief <chief@example.org>"]
    msg = got.message
    assert msg.get_all("Subject") and len(msg.get_all("Subject")) == 1
    for bad in ("Bcc", "X-Injected", "Cc"):
        assert bad not in msg
    subject = str(msg["Subject"])
    assert "\n" not in subject and "\r" not in subject and "Weekly" in subject
    head = got.data.split(b"\r\n\r\n", 1)[0]
    assert not [line for line in head.split(b"\r\n") if line.lower().startswith((b"bcc", b"x-injected"))]


def test_plain_delivery_received_intact(report: LoadedReport) -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        result = send(report, config(port))
    (got,) = handler.received
    assert got.mail_from == "osint@example.org"
    assert result.message_id == got.message["Message-ID"]
    assert result.attempts == 1 and not result.pdf_omitted
    (pdf,) = list(got.message.iter_attachments())
    assert pdf.get_content() == PDF


def test_starttls_with_login(report: LoadedReport, tls: tuple[ssl.SSLContext, Path]) -> None:
    server_ctx, ca_file = tls
    handler = Handler()
    with smtp_server(
        handler,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as port:
        send(
            report,
            config(
                port, smtp_security="starttls", smtp_ca_file=ca_file, smtp_user=USER, smtp_password=PASSWORD
            ),
        )
    assert len(handler.received) == 1


def test_refused_login_is_reported_plainly_and_not_retried(
    report: LoadedReport, tls: tuple[ssl.SSLContext, Path]
) -> None:
    server_ctx, ca_file = tls
    handler, sleeps = Handler(), []
    with smtp_server(
        handler, tls_context=server_ctx, authenticator=authenticator, auth_required=True
    ) as port:
        cfg = config(
            port, smtp_security="starttls", smtp_ca_file=ca_file, smtp_user=USER, smtp_password="wrong"
        )
        with pytest.raises(DeliveryError, match=r"refused the login of 'reports' \(535"):
            send(report, cfg, sleeps)
    assert sleeps == [] and not handler.received


def test_server_requiring_starttls_refuses_a_plain_client(
    report: LoadedReport, tls: tuple[ssl.SSLContext, Path]
) -> None:
    handler = Handler()
    with (
        smtp_server(handler, tls_context=tls[0], require_starttls=True) as port,
        pytest.raises(DeliveryError, match="530"),
    ):
        send(report, config(port))
    assert not handler.received


def test_implicit_tls(report: LoadedReport, tls: tuple[ssl.SSLContext, Path]) -> None:
    server_ctx, ca_file = tls
    handler = Handler()
    with smtp_server(handler, implicit_tls=server_ctx) as port:
        send(report, config(port, smtp_security="ssl", smtp_ca_file=ca_file))
    assert len(handler.received) == 1


def test_untrusted_certificate_is_refused(report: LoadedReport, tls: tuple[ssl.SSLContext, Path]) -> None:
    handler, sleeps = Handler(), []
    with smtp_server(handler, implicit_tls=tls[0]) as port, pytest.raises(DeliveryError, match="certificate"):
        send(report, config(port, smtp_security="ssl"), sleeps)
    assert sleeps == [] and not handler.received


@pytest.mark.parametrize("answer", ["451 4.3.0 Try again later", "421 4.3.2 Service shutting down"])
def test_transient_answers_are_retried_with_backoff(report: LoadedReport, answer: str) -> None:
    handler, sleeps = Handler(data_answers=[answer, answer]), []
    with smtp_server(handler) as port:
        result = send(report, config(port), sleeps)
    assert sleeps == [1.0, 2.0]
    assert result.attempts == 3 and handler.data_attempts == 3
    assert len(handler.received) == 1


def test_transient_answers_give_up_after_the_last_attempt(report: LoadedReport) -> None:
    handler, sleeps = Handler(data_answers=["451 4.3.0 Try again later"] * 5), []
    with smtp_server(handler) as port, pytest.raises(DeliveryError, match="451"):
        send(report, config(port, mail_attempts=3), sleeps)
    assert sleeps == [1.0, 2.0] and not handler.received


def test_permanent_answer_is_not_retried(report: LoadedReport) -> None:
    handler, sleeps = Handler(data_answers=["554 5.7.1 Rejected as spam"]), []
    with smtp_server(handler) as port, pytest.raises(DeliveryError, match=r"554 5\.7\.1 Rejected as spam"):
        send(report, config(port), sleeps)
    assert sleeps == []


def test_connection_refused_then_the_server_comes_back(report: LoadedReport) -> None:
    placeholder = reserve_port()  # bound, not listening: connections are refused
    port = placeholder.getsockname()[1]
    handler = Handler()
    with ExitStack() as stack:

        def sleep(seconds: float) -> None:
            # The "wait" is when the server comes back, on the same port.
            placeholder.close()
            stack.enter_context(smtp_server(handler, sock=_bind(port)))

        result = deliver(
            report,
            config(port),
            config(port).recipients,
            templates_dir=Settings().templates_dir,
            zone=Settings().zone(),
            sleep=sleep,
        )
    assert result.attempts == 2 and len(handler.received) == 1


def test_connection_refused_gives_up_with_a_clear_line(report: LoadedReport) -> None:
    placeholder, sleeps = reserve_port(), []
    with placeholder, pytest.raises(DeliveryError, match=r"cannot connect to the mail server 127\.0\.0\.1"):
        send(report, config(placeholder.getsockname()[1]), sleeps)
    assert sleeps == [1.0, 2.0, 4.0]


def test_too_large_sends_without_the_pdf_and_says_where_it_is(tmp_path: Path) -> None:
    big = load_report(ReportFiles.beside(write_report(tmp_path, pdf=b"%PDF-1.4\n" + b"0" * 300_000)))
    handler = Handler()
    with smtp_server(handler, data_size_limit=200_000) as port:
        result = send(big, config(port, reports_url="https://reports.example.org/mn/"))
    assert result.pdf_omitted
    assert result.pdf_location == f"https://reports.example.org/mn/{STEM}.pdf"
    (got,) = handler.received
    assert not list(got.message.iter_attachments())
    text = got.message.get_body(("plain",))
    assert text is not None and f"https://reports.example.org/mn/{STEM}.pdf" in text.get_content()


def test_one_refused_recipient_does_not_stop_the_others(report: LoadedReport) -> None:
    handler = Handler(refuse={"chief@example.org": "550 5.1.1 No such user"})
    with smtp_server(handler) as port:
        result = send(report, config(port))
    assert result.accepted == ["analyst@example.org"]
    assert result.refused == {"Chief <chief@example.org>": "550 5.1.1 No such user"}
    assert handler.received[0].rcpt_tos == ["analyst@example.org"]


# --------------------------------------------------------------------------- osint send


def _env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    mail_env(monkeypatch, port, "analyst@example.org,chief@example.org")
    monkeypatch.setenv("OSINT_DB", "osint.db")


def test_send_command_records_sends_and_mails_nobody_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_report(tmp_path / "reports")
    handler = Handler()
    with smtp_server(handler) as port:
        _env(monkeypatch, port)
        code, output = invoke("send", str(path.with_suffix(".pdf")))
        assert code == 0, output
        assert "emailed" in output and "analyst@example.org" in output
        code, output = invoke("send", str(path))
        assert code == 0 and "not again" in output
        assert len(handler.received) == 1
        code, output = invoke("send", "--force", str(path))
        assert code == 0 and len(handler.received) == 2
    rows = (
        sqlite3.connect(tmp_path / "osint.db")
        .execute(
            "SELECT report, recipient, status, message_id, period_start, period_end FROM sends ORDER BY id"
        )
        .fetchall()
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (STEM, "analyst@example.org", "sent"),
        (STEM, "chief@example.org", "sent"),
    ] * 2
    assert all(r[3] and r[4] == "2026-03-09" and r[5] == "2026-03-15" for r in rows)


def test_send_command_failure_exits_3_and_a_rerun_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_report(tmp_path / "reports")
    placeholder = reserve_port()
    with placeholder:
        _env(monkeypatch, placeholder.getsockname()[1])
        monkeypatch.setenv("OSINT_MAIL_ATTEMPTS", "1")
        code, output = invoke("send", str(path))
    assert code == 3
    assert "not sent: cannot connect to the mail server" in " ".join(output.split())
    handler = Handler()
    with smtp_server(handler) as port:
        monkeypatch.setenv("OSINT_SMTP_PORT", str(port))
        code, output = invoke("send", str(path))
    assert code == 0 and len(handler.received) == 1


def test_dry_run_writes_the_eml_and_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_report(tmp_path / "reports")
    monkeypatch.setenv("OSINT_MAIL_TO", "analyst@example.org")
    monkeypatch.setenv("OSINT_MAIL_MODE", "to")
    code, output = invoke("send", "--dry-run", str(path))
    assert code == 0, output
    eml = path.with_suffix(".eml")
    assert "nothing sent" in output and eml.is_file()
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "analyst@example.org"
    assert msg["Subject"] == "Mongolia Security Analysis Report: 9–15 March 2026"
    assert [p.get_content_type() for p in msg.walk()][-1] == "application/pdf"
    assert not (tmp_path / "data" / "osint.db").exists()  # a dry run records nothing


def test_send_without_mail_settings_is_a_config_error(tmp_path: Path) -> None:
    code, output = invoke("send", str(write_report(tmp_path)))
    assert code == 2 and "OSINT_SMTP_HOST" in output


# --------------------------------------------------------------------------- helpers


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock
