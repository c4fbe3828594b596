"""Senders, one per channel: email over SMTP (through :mod:`leadsla.smtp`), Slack (incoming
webhook for team channels, ``chat.postMessage`` with a bot token for direct messages), Microsoft
Teams incoming webhooks, WhatsApp through a gateway, a generic JSON webhook, and the CRM webhook.
(The rule model of the channels' endpoints is :class:`leadsla.rules.delivery_models.Channels`.)

Every sender raises :class:`SendError` with ``transient`` set: timeouts, connection errors,
HTTP 5xx/429 and SMTP 4xx are worth another attempt later; HTTP 4xx and SMTP 5xx are not (the
request itself is wrong, sending it again would fail the same way). Error texts never carry an
endpoint URL or token: webhook URLs are secrets (a Slack webhook URL *is* its credential).

Every send is bounded (:mod:`leadsla.delivery.timeouts`): name lookup and connect, each read,
and the send in total, so a server that accepts and never answers costs ``connect_s`` or
``read_s``, and a server that answers a byte at a time costs ``total_s``.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

from leadsla import smtp
from leadsla.delivery.check import resolve_endpoints
from leadsla.delivery.safety import clean_json, clean_line, clean_text
from leadsla.delivery.timeouts import LookupTimeout, SendDeadline, SendLimits, resolve
from leadsla.rules import RuleSet
from leadsla.smtp import SmtpConfigError, SmtpSettings


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class SendError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Outgoing:
    """One unit to send: a message, or a digest of several (``message_ids``). Every part is
    cleaned here, the one door all channels send through: subject and recipient are one line
    without control characters, bodies and payload strings lose theirs (line breaks and tabs
    stay) (:mod:`leadsla.delivery.safety`)."""

    key: str  # Message-ID / Idempotency-Key
    channel: str
    recipient: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clean = {
            "recipient": clean_line(self.recipient),
            "subject": clean_line(self.subject, 200),
            "text": clean_text(self.text),
            "html": clean_text(self.html),
            "payload": clean_json(self.payload),
        }
        for name, value in clean.items():
            object.__setattr__(self, name, value)  # frozen: set once, here


@dataclass
class Senders:
    """Configured endpoints (values resolved at the edge), SMTP settings, and the time the
    HTTP channels may take (SMTP has its own, in its settings)."""

    smtp: SmtpSettings | None = None
    endpoints: dict[str, str] = field(default_factory=dict)
    slack_api_url: str = "https://slack.com/api"
    timeouts: SendLimits = field(default_factory=SendLimits)
    config_errors: list[str] = field(default_factory=list)  # settings refused at the edge
    _client: httpx.Client | None = field(default=None, repr=False)
    _resolved: set[tuple[str, int]] = field(default_factory=set, repr=False)
    _http_socks: list[socket.socket] = field(default_factory=list, repr=False)
    _smtp_stack: contextlib.ExitStack | None = field(default=None, repr=False)
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)

    def endpoint_key(self, channel: str, recipient: str) -> str:
        if channel == "slack":
            return f"slack:{recipient}" if recipient.startswith("#") else "slack:bot"
        if channel == "teams":
            return f"teams:{recipient}"
        if channel == "crm_webhook":
            return "crm"
        return channel

    def configured(self, channel: str, recipient: str) -> bool:
        """Whether this message can go out at all; if not, it waits in the outbox."""
        if channel == "email":
            return self.smtp is not None
        if channel == "crm_csv":
            return True
        return self.endpoint_key(channel, recipient) in self.endpoints

    def live_channels(self) -> list[str]:
        """The channels with at least one usable endpoint: messages on others are not touched."""
        live = ["crm_csv"] + (["email"] if self.smtp is not None else [])
        prefixes = {k.split(":", 1)[0] for k in self.endpoints}
        live += [c for c in ("slack", "teams", "whatsapp", "webhook") if c in prefixes]
        return live + (["crm_webhook"] if "crm" in self.endpoints else [])

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            t = self.timeouts
            self._client = httpx.Client(
                timeout=httpx.Timeout(connect=t.connect_s, read=t.read_s, write=t.read_s,
                                      pool=t.connect_s),
                transport=httpx.HTTPTransport(retries=0),  # the outbox retries, with backoff
            )  # fmt: skip
        return self._client

    def close(self) -> None:
        self._close_http()
        self._resolved.clear()
        self._close_smtp()

    def _close_http(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._http_socks.clear()

    def _close_smtp(self) -> None:
        if self._smtp_stack is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp_stack.close()
        self._smtp_stack = self._smtp = None

    def _smtp_client(self, deadline: SendDeadline) -> smtplib.SMTP:
        """One SMTP session for a whole delivery run (a connection per message would cost a
        TCP/TLS handshake and a login each); dropped and reopened after a connection error.
        Its socket is handed to the deadline of the send about to use it."""
        assert self.smtp is not None
        if self._smtp is None:
            stack = contextlib.ExitStack()
            self._smtp = stack.enter_context(smtp.connect(self.smtp, deadline))
            self._smtp_stack = stack
        else:
            smtp.watch(self._smtp, deadline)
        return self._smtp

    def send(self, out: Outgoing) -> None:
        if out.channel == "email":
            self._email(out)
            return
        key = self.endpoint_key(out.channel, out.recipient)
        url = self.endpoints[key]
        headers = {"Idempotency-Key": out.key}
        body: dict[str, Any]
        if out.channel == "slack" and key == "slack:bot":
            headers["Authorization"] = f"Bearer {url}"
            body = {"channel": out.recipient, "text": f"*{out.subject}*\n{out.text}"}
            resp = self._post(f"{self.slack_api_url}/chat.postMessage", body, headers, key)
            data = resp.json() if resp.content else {}
            if not data.get("ok", False):
                err = str(data.get("error", "unknown"))
                raise SendError(f"slack API error: {err}", transient=err == "ratelimited")
            return
        if out.channel == "slack":
            body = {
                "text": out.subject,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"*{out.subject}*"}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": out.text[:2900]}},
                ],
            }
        elif out.channel == "teams":
            body = {
                "type": "message",
                "attachments": [
                    {
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": {
                            "type": "AdaptiveCard",
                            "version": "1.4",
                            "body": [
                                {
                                    "type": "TextBlock",
                                    "text": out.subject,
                                    "weight": "bolder",
                                    "wrap": True,
                                },
                                {"type": "TextBlock", "text": out.text, "wrap": True},
                            ],
                        },
                    }
                ],
            }
        elif out.channel == "whatsapp":
            body = {
                "to": out.recipient,
                "text": f"{out.subject}\n\n{out.text}",
                "message_id": out.key,
            }
        else:  # webhook, crm_webhook
            body = {
                "message_id": out.key,
                "recipient": out.recipient,
                "subject": out.subject,
                "text": out.text,
                **out.payload,
            }
        self._post(url, body, headers, key)

    def _lookup(self, url: str, key: str) -> None:
        """The endpoint's name looked up once per run with a bound (httpx's own lookup has
        none: an unresolvable host could hang past a minute)."""
        try:
            u = httpx.URL(url)
        except httpx.InvalidURL:
            u = httpx.URL()
        if u.scheme not in ("http", "https") or not u.host:  # queued until the setting is fixed
            raise SendError(f"{key}: its URL is not an http(s) URL; fix the variable or block "
                            "notifications.yaml names for it", transient=True)  # fmt: skip
        where = (u.host, u.port or (443 if u.scheme == "https" else 80))
        if where in self._resolved:
            return
        try:
            resolve(where[0], where[1], self.timeouts.connect_s)
        except OSError as exc:
            raise SendError(f"{key}: name lookup failed ({type(exc).__name__})",
                            transient=True) from None  # fmt: skip
        self._resolved.add(where)

    def _post(
        self, url: str, body: dict[str, Any], headers: dict[str, str], key: str
    ) -> httpx.Response:
        self._lookup(url, key)
        total = self.timeouts.total_s
        with SendDeadline(total) as deadline:

            def trace(event: str, info: dict[str, Any]) -> None:
                # every socket the request connects (and its TLS successor) joins the deadline
                if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                    sock = info["return_value"].get_extra_info("socket")
                    if isinstance(sock, socket.socket):
                        self._http_socks.append(sock)
                        deadline.watch(sock)

            for sock in self._http_socks:  # kept-alive connections this request may reuse
                deadline.watch(sock)
            try:
                resp = self.client.post(
                    url, json=body, headers=headers, extensions={"trace": trace}
                )
            except httpx.TimeoutException:
                raise SendError(f"{key}: timed out", transient=True) from None
            except httpx.TransportError as exc:
                if deadline.expired:
                    self._close_http()  # its connections were shut down: start afresh
                    raise SendError(f"{key}: no answer within {total:g} s in total",
                                    transient=True) from None  # fmt: skip
                raise SendError(f"{key}: {type(exc).__name__}", transient=True) from None
        if deadline.expired:  # just after the answer: its connections are shut down
            self._close_http()
        if resp.status_code >= 500 or resp.status_code == 429:
            raise SendError(f"{key}: HTTP {resp.status_code}", transient=True)
        if resp.status_code >= 400:
            raise SendError(f"{key}: HTTP {resp.status_code} {resp.text[:200]!r}", transient=False)
        return resp

    def _email(self, out: Outgoing) -> None:
        assert self.smtp is not None
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = out.recipient
        msg["Subject"] = out.subject
        msg["Message-ID"] = f"<{out.key}@leadsla>"
        msg["Date"] = formatdate(localtime=False)
        msg["X-Leadsla-Message"] = out.key
        msg.set_content(out.text)
        msg.add_alternative(out.html, subtype="html")
        total = self.smtp.timeouts.total_s
        with SendDeadline(total) as deadline:
            try:
                self._smtp_client(deadline).send_message(msg)
            except (smtplib.SMTPException, OSError) as exc:
                if not deadline.expired:
                    self._smtp_error(exc)
                self._close_smtp()
                raise SendError(f"smtp: no answer within {total:g} s in total",
                                transient=True) from None  # fmt: skip
        if deadline.expired:  # just after the answer: the session's socket is shut down
            self._close_smtp()

    def _smtp_error(self, exc: smtplib.SMTPException | OSError) -> None:
        """An SMTP failure as a SendError; the session is dropped, so the next message starts
        a fresh one, in a known state."""
        self._close_smtp()
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [c for c, _ in exc.recipients.values()]
            raise SendError(
                f"smtp: recipient refused ({codes})", transient=all(400 <= c < 500 for c in codes)
            ) from None
        if isinstance(exc, smtplib.SMTPResponseException):
            raise SendError(
                f"smtp: {exc.smtp_code} {_text(exc.smtp_error)[:200]}",
                transient=400 <= exc.smtp_code < 500,
            ) from None
        if isinstance(exc, LookupTimeout):
            raise SendError(f"smtp: {exc}", transient=True) from None
        if isinstance(exc, socket.gaierror):
            host = self.smtp.host if self.smtp else "?"
            raise SendError(f"smtp: name lookup of {host} failed ({exc.strerror})",
                            transient=True) from None  # fmt: skip
        if isinstance(exc, TimeoutError) or str(exc).endswith("timed out"):  # smtplib wraps it
            raise SendError("smtp: no answer in time (timed out)", transient=True) from None
        raise SendError(f"smtp: {type(exc).__name__}: {exc}"[:300], transient=True) from None


def senders_from_env(
    rules: RuleSet,
    env: Mapping[str, str],
    *,
    smtp_settings: SmtpSettings | None = None,
    blocks: Mapping[str, str] | None = None,
    strict: bool = True,
) -> Senders:
    """The channel configuration at the CLI edge (environment) or the flow edge (blocks
    already loaded into plain values), with the timeouts of ``notifications.yaml``.

    A malformed ``LEADSLA_SMTP_URL`` raises :class:`SmtpConfigError` (one line naming the
    variable and the fix); with ``strict=False`` (a scheduled flow) that line is kept in
    ``Senders.config_errors`` (and the run's result) for the caller to log, email waits in
    the outbox and the other channels deliver."""
    n = rules.notifications
    errors: list[str] = []
    if smtp_settings is None:
        try:
            smtp_settings = SmtpSettings.from_env(env)
        except SmtpConfigError as exc:
            if strict:
                raise
            errors.append(str(exc))
    if n is None:
        return Senders(smtp=smtp_settings, config_errors=errors)
    t = n.timeouts
    timeouts = SendLimits(t.connect_seconds, t.read_seconds, t.total_seconds)
    return Senders(
        smtp=replace(smtp_settings, timeouts=timeouts) if smtp_settings else None,
        endpoints=resolve_endpoints(n, env, blocks),
        slack_api_url=n.channels.slack.api_url,
        timeouts=timeouts,
        config_errors=errors,
    )
