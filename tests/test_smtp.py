"""SMTP settings parsing and a real send to aiosmtpd on loopback."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.cli import main
from leadsla.delivery.senders import senders_from_env
from leadsla.rules import load_rules
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


# ---- configuration errors: one line naming the setting and the fix, never the password ------

SECRET = "s3cr#t"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("smtp://mail.acme.in:abc", "the port must be a number from 1 to 65535"),
        ("smtp://mail.acme.in:70000", "the port must be a number from 1 to 65535"),
        ("smtp://mail.acme.in:0", "the port is not a number from 1 to 65535"),
        # an unencoded # in the password cuts the URL: the rest looks like a port
        (f"smtp://ops:{SECRET}@mail.acme.in", "percent-encoded, # as %23"),
        (f"smtp://ops:{SECRET}@mail.acme.in:25", "percent-encoded, # as %23"),
        ("smtp://[::1", "is not a valid URL"),
        ("http://mail.acme.in", "the scheme 'http' is not one of smtp, smtp+starttls, smtps"),
        ("mail.acme.in:25", "the scheme 'mail.acme.in' is not one of"),
        ("smtp://", "has no host"),
        ("smtp://mail.acme.in:25/relay?x=1", "has a path, query or fragment"),
        ("smtp://mail host.acme.in:25", "the host is not a host name or IP address"),
        ("smtp://ma\x00il:25", "the host is not a host name or IP address"),
    ],
)
def test_a_malformed_url_is_one_line_naming_the_variable_and_the_fix(
    url: str, fragment: str
) -> None:
    with pytest.raises(SmtpConfigError) as exc:
        SmtpSettings.from_url(url, sender="sla@acme.in")
    text = str(exc.value)
    assert text.startswith("LEADSLA_SMTP_URL")
    assert fragment in text
    assert "e.g. smtp+starttls://" in text  # the fix, by example
    assert "\n" not in text
    assert "cr#t" not in text
    assert "s3cr" not in text


@pytest.mark.parametrize("sender", ["nobody", "sla@acme.in\r\nBcc: victim@evil.example"])
def test_a_bad_sender_names_leadsla_email_from(sender: str) -> None:
    with pytest.raises(SmtpConfigError, match="LEADSLA_EMAIL_FROM"):
        SmtpSettings.from_url("smtp://mail.acme.in", sender=sender)


@settings(max_examples=400, deadline=None)
@given(url=st.text(), password=st.text(min_size=1))
def test_any_url_is_settings_or_one_clear_line(url: str, password: str) -> None:
    """Whatever the variable holds: settings, or a SmtpConfigError that is one line starting
    with the variable's name and never repeats the password."""
    for candidate in (
        url,
        f"smtp://ops:pw-{password}@{url}",
        f"smtps://ops:pw-{password}@mail:{url}",
        f"smtp://ops:pw-{password}{url}@mail.acme.in",
    ):
        try:
            SmtpSettings.from_url(candidate, sender="sla@acme.in")
        except SmtpConfigError as exc:
            text = str(exc)
            assert text.startswith("LEADSLA_SMTP_URL")
            assert "\n" not in text
            assert "\r" not in text
            assert f"pw-{password}" not in text


@pytest.mark.parametrize("command", ["check", "deliver", "tick"])
def test_cli_says_one_line_and_exits_2(
    command: str, rules_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("LEADSLA_SMTP_URL", f"smtp://ops:{SECRET}@mail.acme.in:587")
    args = {
        "check": ["check", "--rules", str(rules_dir)],
        "deliver": ["deliver", "--rules", str(rules_dir), "--db", str(tmp_path / "t.duckdb")],
        "tick": [
            "tick",
            "--rules",
            str(rules_dir),
            "--exports",
            str(tmp_path),
            "--db",
            str(tmp_path / "t.duckdb"),
            "--now",
            "2026-11-23T09:00:00+05:30",
        ],
    }
    assert main(args[command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("leadsla: LEADSLA_SMTP_URL is not a valid URL")
    assert err.count("\n") == 1  # one line, no traceback
    assert "cr#t" not in err
    assert not (tmp_path / "t.duckdb").exists()  # refused before touching anything


def test_the_flow_edge_keeps_the_error_and_delivers_the_other_channels(rules_dir: Path) -> None:
    """A scheduled flow must not die on it: email waits, the error is one line to log."""
    env = {"LEADSLA_SMTP_URL": "smtp://mail.acme.in:99999",
           "LEADSLA_WEBHOOK_URL": "http://127.0.0.1:9/hook"}  # fmt: skip
    rules = load_rules(rules_dir)
    with pytest.raises(SmtpConfigError):
        senders_from_env(rules, env)
    ch = senders_from_env(rules, env, strict=False)
    assert ch.smtp is None
    assert list(ch.endpoints) == ["webhook"]
    assert len(ch.config_errors) == 1
    assert ch.config_errors[0].startswith("LEADSLA_SMTP_URL is not a valid URL")


def test_settings_refuse_an_impossible_port_from_any_edge() -> None:
    with pytest.raises(SmtpConfigError, match="SMTP settings: the port is not a number"):
        SmtpSettings(host="mail.acme.in", port=99999)
