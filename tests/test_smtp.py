"""SMTP settings parsing and a real send to aiosmtpd on loopback."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from leadsla.smtp import SmtpConfigError, SmtpSettings, send

from .conftest import SmtpSink


@pytest.mark.parametrize(
    ("url", "security", "port", "user"),
    [
        ("smtp://localhost:1025", "plain", 1025, None),
        ("smtp+starttls://ops%40acme.in:s3cret@mail.acme.in", "starttls", 587, "ops@acme.in"),
        ("smtps://u:p@mail.acme.in", "ssl", 465, "u"),
    ],
)
def test_urls_parse(url: str, security: str, port: int, user: str | None) -> None:
    s = SmtpSettings.from_url(url, sender="leadsla@acme.in")
    assert (s.security, s.port, s.username) == (security, port, user)
    assert "s3cret" not in repr(s)
    assert "s3cret" not in s.redacted()


@pytest.mark.parametrize(
    ("url", "sender", "fragment"),
    [
        ("http://mail", "a@b.c", "scheme 'http'"),
        ("smtp://", "a@b.c", "no host"),
        ("smtp://mail", "nobody", "not an email address"),
    ],
)
def test_bad_settings_say_what_to_fix(url: str, sender: str, fragment: str) -> None:
    with pytest.raises(SmtpConfigError, match=fragment):
        SmtpSettings.from_url(url, sender=sender)


def test_no_url_means_no_settings() -> None:
    assert SmtpSettings.from_env({}) is None


def test_send_reaches_a_real_server(smtp_sink: tuple[SmtpSink, int]) -> None:
    sink, port = smtp_sink
    settings = SmtpSettings.from_env(
        {"LEADSLA_SMTP_URL": f"smtp://127.0.0.1:{port}", "LEADSLA_EMAIL_FROM": "sla@acme.in"}
    )
    assert settings is not None
    msg = EmailMessage()
    msg["To"] = "manager@acme.in"
    msg["Subject"] = "Escalation | lead L1"
    msg.set_content("plain")
    msg.add_alternative("<p>html</p>", subtype="html")
    send(settings, msg)
    [(rcpts, parsed)] = sink.messages
    assert (sink.mail_from, rcpts) == (["sla@acme.in"], ["manager@acme.in"])
    assert parsed["Subject"] == "Escalation | lead L1"
    assert {p.get_content_type() for p in parsed.walk()} >= {"text/plain", "text/html"}
