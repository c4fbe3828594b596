"""Channels: email over SMTP (through :mod:`leadsla.smtp`), Slack (incoming webhook for team
channels, ``chat.postMessage`` with a bot token for direct messages), Microsoft Teams incoming
webhooks, WhatsApp through a gateway, a generic JSON webhook, and the CRM webhook.

Every sender raises :class:`SendError` with ``transient`` set: timeouts, connection errors,
HTTP 5xx/429 and SMTP 4xx are worth another attempt later; HTTP 4xx and SMTP 5xx are not (the
request itself is wrong, sending it again would fail the same way). Error texts never carry an
endpoint URL or token: webhook URLs are secrets (a Slack webhook URL *is* its credential).
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

from leadsla import smtp
from leadsla.smtp import SmtpSettings


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class SendError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Outgoing:
    """One unit to send: a message, or a digest of several (``message_ids``)."""

    key: str  # Message-ID / Idempotency-Key
    channel: str
    recipient: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Channels:
    """Configured endpoints (values resolved at the edge) and SMTP settings."""

    smtp: SmtpSettings | None = None
    endpoints: dict[str, str] = field(default_factory=dict)
    slack_api_url: str = "https://slack.com/api"
    timeout_s: float = 10.0
    _client: httpx.Client | None = field(default=None, repr=False)
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
        """Channels with at least one usable endpoint: messages on others are not touched."""
        live = ["crm_csv"] + (["email"] if self.smtp is not None else [])
        prefixes = {k.split(":", 1)[0] for k in self.endpoints}
        live += [c for c in ("slack", "teams", "whatsapp", "webhook") if c in prefixes]
        return live + (["crm_webhook"] if "crm" in self.endpoints else [])

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout_s, transport=httpx.HTTPTransport(retries=1)
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._close_smtp()

    def _close_smtp(self) -> None:
        if self._smtp_stack is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp_stack.close()
        self._smtp_stack = self._smtp = None

    def _smtp_client(self) -> smtplib.SMTP:
        """One SMTP session for a whole delivery run (a connection per message would cost a
        TCP/TLS handshake and a login each); dropped and reopened after a connection error."""
        assert self.smtp is not None
        if self._smtp is None:
            stack = contextlib.ExitStack()
            self._smtp = stack.enter_context(smtp.connect(self.smtp))
            self._smtp_stack = stack
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

    def _post(
        self, url: str, body: dict[str, Any], headers: dict[str, str], key: str
    ) -> httpx.Response:
        try:
            resp = self.client.post(url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise SendError(f"{key}: timed out", transient=True) from None
        except httpx.TransportError as exc:
            raise SendError(f"{key}: {type(exc).__name__}", transient=True) from None
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
        try:
            self._smtp_client().send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            self._close_smtp()
            codes = [c for c, _ in exc.recipients.values()]
            raise SendError(
                f"smtp: recipient refused ({codes})", transient=all(400 <= c < 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._close_smtp()  # a fresh session for the next message, in a known state
            raise SendError(
                f"smtp: {exc.smtp_code} {_text(exc.smtp_error)[:200]}",
                transient=400 <= exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._close_smtp()
            raise SendError(f"smtp: {type(exc).__name__}: {exc}"[:300], transient=True) from None
