"""Prefect blocks as leadsla settings, in one place: the email block both flows read, the block
``leadsla prefect setup`` writes, and the sentence that tells ops how to create a missing one.

``leadsla/`` never imports Prefect, so the flows turn a prefect-email ``EmailServerCredentials``
block into :class:`leadsla.smtp.SmtpSettings` here and hand that down.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from leadsla.smtp import Security, SmtpConfigError, SmtpSettings

#: What a missing block's log line tells an ops person to run.
SETUP_COMMAND = "LEADSLA_SMTP_URL=smtp+starttls://user:pass@host:587 leadsla prefect setup"

_MODES: dict[str, Security] = {"SSL": "ssl", "STARTTLS": "starttls"}


def smtp_settings_from_block(name: str) -> SmtpSettings:
    """A prefect-email ``EmailServerCredentials`` block as plain settings. The sender is
    ``LEADSLA_EMAIL_FROM``, else the block's username when it is an address, else
    ``leadsla@localhost``. Raises ``ValueError`` when no block has that name."""
    from prefect_email import EmailServerCredentials, SMTPType

    block = EmailServerCredentials.load(name)
    smtp_type = block.smtp_type
    if isinstance(smtp_type, str):
        smtp_type = SMTPType[smtp_type.upper()]
    user = block.username or None
    sender = os.environ.get("LEADSLA_EMAIL_FROM") or (
        user if user and "@" in user else "leadsla@localhost"
    )
    server = getattr(block.smtp_server, "value", block.smtp_server)
    return SmtpSettings(
        host=str(server),
        port=int(block.smtp_port or smtp_type.value),
        security=_MODES.get(smtp_type.name, "plain"),
        username=user,
        password=(block.password.get_secret_value() or None) if block.password else None,
        sender=sender,
        verify_tls=bool(block.verify) if block.verify is not None else True,
    )


def email_block_from_settings(settings: SmtpSettings) -> Any:
    """The inverse of :func:`smtp_settings_from_block`: the block ``prefect setup`` saves."""
    from prefect_email import EmailServerCredentials, SMTPType

    kind = {"ssl": SMTPType.SSL, "starttls": SMTPType.STARTTLS}.get(
        settings.security, SMTPType.INSECURE
    )
    login = {"username": settings.username, "password": settings.password}
    return EmailServerCredentials(
        smtp_server=settings.host,
        smtp_port=settings.port,
        smtp_type=kind,
        verify=settings.verify_tls,
        **{k: v for k, v in login.items() if v is not None},
    )


def load_email_block(name: str | None, logger: logging.Logger | Any) -> SmtpSettings | None:
    """The named email block's settings, or None (no name, or no such block yet). A missing
    block never fails a run: the log says which command creates it, and what happens meanwhile
    is the caller's to say (the tick keeps emails in the outbox, the review writes files)."""
    if not name:
        return None
    try:
        return smtp_settings_from_block(name)
    except SmtpConfigError as exc:  # the block exists but cannot be used: one line, no email
        logger.error("email block %r is not usable, so no email is sent by this run: %s", name, exc)
        return None
    except ValueError:
        logger.warning(
            "email block %r does not exist yet, so no email is sent by this run; create it "
            "with: %s",
            name,
            SETUP_COMMAND,
        )
        return None
