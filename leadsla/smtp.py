"""SMTP settings and sending: the one place leadsla talks to a mail server.

Both the delivery outbox (escalations, reminders) and the emailed reports send through here.
Settings come from ``LEADSLA_SMTP_URL`` / ``LEADSLA_EMAIL_FROM`` on the CLI, or from a Prefect
``EmailServerCredentials`` block that the flows turn into a :class:`SmtpSettings` (so this
package never imports Prefect). The password never appears in ``repr``, logs or errors: use
:meth:`SmtpSettings.redacted` when a URL must be shown.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Literal
from urllib.parse import unquote, urlsplit

from leadsla.delivery.timeouts import SendDeadline, SendLimits, open_connection

Security = Literal["plain", "starttls", "ssl"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("ssl", 465),
}
_EXAMPLE = "e.g. smtp+starttls://user:pass@mail.example.com:587"
_SENDER = "set LEADSLA_EMAIL_FROM like sla@acme.example or 'Lead SLA <sla@acme.example>'"
#: A host name (letters, digits, ``_ . -``, any script) or an IPv4/IPv6 literal.
_HOST = re.compile(r"[\w.-]+|[0-9A-Fa-f:.]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class SmtpConfigError(ValueError):
    """A malformed SMTP URL or sender; the message names the setting and says what to fix
    (never the password, so it never repeats the URL)."""


def _check(host: str, port: int, sender: str, where: str) -> None:
    """Refuse settings that cannot work, naming ``where`` they came from."""
    if not _HOST.fullmatch(host):
        raise SmtpConfigError(f"{where}: the host is not a host name or IP address; {_EXAMPLE}")
    if not 0 < port < 65536:
        raise SmtpConfigError(f"{where}: the port is not a number from 1 to 65535; {_EXAMPLE}")
    if _CONTROL.search(sender):  # a line break in From: would be header injection
        raise SmtpConfigError(f"the sender address has control characters; {_SENDER}")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. ``verify_tls`` can be switched off only for a loopback test
    server with a self-signed certificate. Impossible values (a port outside 1-65535, a host
    that is no host name) are refused here, whichever edge built the settings."""

    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "leadsla@localhost"
    timeouts: SendLimits = field(default_factory=SendLimits)
    verify_tls: bool = True

    def __post_init__(self) -> None:
        _check(self.host, self.port, self.sender, "SMTP settings")

    @classmethod
    def from_url(cls, url: str, *, sender: str) -> SmtpSettings:
        """``smtp://[user:pass@]host[:port]``, ``smtp+starttls://…`` or ``smtps://…``. Any
        mistake is one :class:`SmtpConfigError` naming ``LEADSLA_SMTP_URL`` and the fix."""
        var = "LEADSLA_SMTP_URL"
        try:
            parts = urlsplit(url.strip())
            port = parts.port
            host = parts.hostname
        except ValueError:  # a port that is no number, a broken [IPv6] literal
            raise SmtpConfigError(
                f"{var} is not a valid URL (the port must be a number from 1 to 65535; a "
                "password with any of : / ? # @ [ ] must be percent-encoded, # as %23); "
                f"{_EXAMPLE}"
            ) from None
        if parts.scheme not in _SCHEMES:
            scheme = _CONTROL.sub("?", parts.scheme)[:20]
            raise SmtpConfigError(
                f"{var}: the scheme {scheme!r} is not one of "
                f"{', '.join(sorted(_SCHEMES))}; {_EXAMPLE}"
            )
        if not host:
            raise SmtpConfigError(f"{var} has no host; {_EXAMPLE}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise SmtpConfigError(
                f"{var} has a path, query or fragment after the host (a password with / ? # "
                f"must be percent-encoded, # as %23); {_EXAMPLE}"
            )
        security, default_port = _SCHEMES[parts.scheme]
        port = default_port if port is None else port
        _check(host, port, sender, var)
        if "@" not in parseaddr(sender)[1]:
            raise SmtpConfigError(f"LEADSLA_EMAIL_FROM is not an email address; {_SENDER}")
        return cls(
            host=host,
            port=port,
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


class _Bounded(smtplib.SMTP):
    """An SMTP client whose connection is bounded: a name lookup that gives up, a connect
    and greeting within the connect timeout, the socket handed to the send's deadline."""

    deadline: SendDeadline | None = None
    _host: str  # the TLS server name; smtplib sets it in __init__ only when given a host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = open_connection(host, port, timeout)
        if self.deadline is not None:
            self.deadline.watch(sock)
        return sock


class _BoundedSSL(smtplib.SMTP_SSL, _Bounded):
    """``smtps://``: TLS from the first byte, over a bounded connection."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)
        if self.deadline is not None:
            self.deadline.watch(sock)
        return sock


@contextmanager
def connect(settings: SmtpSettings, deadline: SendDeadline | None = None) -> Iterator[smtplib.SMTP]:
    """One authenticated session, for sending a batch of messages over one connection. Its
    lookup, connect, greeting, TLS and login each get ``timeouts.connect_s``; later reads
    ``timeouts.read_s``. Sockets are handed to ``deadline`` (the current send's total
    time), which :func:`watch` re-arms for each later send over the same session."""
    context = ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    t = settings.timeouts
    client: _Bounded
    if settings.security == "ssl":
        client = _BoundedSSL(timeout=t.connect_s, context=context)
    else:
        client = _Bounded(timeout=t.connect_s)
    client.deadline = deadline
    client._host = settings.host
    try:
        client.connect(settings.host, settings.port)
        if settings.security == "starttls":
            client.starttls(context=context)
            watch(client, deadline)  # the TLS socket replaced the plain one
        if settings.username:
            client.login(settings.username, settings.password or "")
        assert client.sock is not None
        client.sock.settimeout(t.read_s)
        client.timeout = t.read_s
    except BaseException:
        client.close()
        raise
    try:
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def watch(client: smtplib.SMTP, deadline: SendDeadline | None) -> None:
    """Hand the session's socket to the deadline of the send about to use it."""
    if deadline is not None and client.sock is not None:
        deadline.watch(client.sock)


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message (the envelope comes from its To/Cc/Bcc headers) within
    ``timeouts.total_s``. Raises ``smtplib.SMTPException`` or ``OSError`` (a timeout is a
    ``TimeoutError``) on failure; the caller records and retries."""
    if "From" not in message:
        message["From"] = settings.sender
    with SendDeadline(settings.timeouts.total_s) as deadline:
        try:
            with connect(settings, deadline) as client:
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            if deadline.expired:
                raise TimeoutError(
                    f"no answer within {settings.timeouts.total_s:g} s in total"
                ) from exc
            raise
