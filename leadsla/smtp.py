"""SMTP settings and sending: the one place leadsla talks to a mail server.

Both the delivery outbox (escalations, reminders) and the emailed reports send through here.
Settings come from ``LEADSLA_SMTP_URL`` / ``LEADSLA_EMAIL_FROM`` on the CLI, or from a Prefect
``EmailServerCredentials`` block that the flows turn into a :class:`SmtpSettings` (so this
package never imports Prefect). The password never appears in ``repr``, logs or errors: use
:meth:`SmtpSettings.redacted` when a URL must be shown.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "ssl"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("ssl", 465),
}


class SmtpConfigError(ValueError):
    """A malformed SMTP URL or sender; the message says what to fix (never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. ``verify_tls`` can be switched off only for a loopback test
    server with a self-signed certificate."""

    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "leadsla@localhost"
    timeout_s: float = 30.0
    verify_tls: bool = True

    @classmethod
    def from_url(cls, url: str, *, sender: str) -> SmtpSettings:
        """``smtp://[user:pass@]host[:port]``, ``smtp+starttls://…`` or ``smtps://…``."""
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES:
            raise SmtpConfigError(
                f"LEADSLA_SMTP_URL scheme {parts.scheme!r} is not one of "
                f"{', '.join(sorted(_SCHEMES))}; e.g. smtp+starttls://user:pass@mail.example.com"
            )
        if not parts.hostname:
            raise SmtpConfigError("LEADSLA_SMTP_URL has no host; e.g. smtp://localhost:1025")
        if "@" not in sender:
            raise SmtpConfigError(f"LEADSLA_EMAIL_FROM {sender!r} is not an email address")
        security, default_port = _SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings | None:
        """Settings from ``LEADSLA_SMTP_URL`` and ``LEADSLA_EMAIL_FROM``; None when no URL is
        set (messages then wait in the outbox and ``leadsla check`` says so)."""
        url = env.get("LEADSLA_SMTP_URL")
        if not url:
            return None
        return cls.from_url(url, sender=env.get("LEADSLA_EMAIL_FROM", "leadsla@localhost"))

    def redacted(self) -> str:
        """The settings as a URL with the password masked, for logs and artifacts."""
        scheme = {v[0]: k for k, v in _SCHEMES.items()}[self.security]
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@contextmanager
def connect(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """One authenticated session, for sending a batch of messages over one connection."""
    context = ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    client: smtplib.SMTP
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_s, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    try:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
        yield client
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message (the envelope comes from its To/Cc/Bcc headers). Raises
    ``smtplib.SMTPException`` or ``OSError`` on failure; the caller records and retries."""
    if "From" not in message:
        message["From"] = settings.sender
    with connect(settings) as client:
        client.send_message(message)
