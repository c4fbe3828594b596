"""What goes out as one send: each due message, and per recipient and channel one digest of
the messages rolled into it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import duckdb

from leadsla.delivery.due import DUE
from leadsla.delivery.record import Unit
from leadsla.delivery.render import environment
from leadsla.delivery.senders import Outgoing, Senders
from leadsla.rules import RuleSet
from leadsla.sql import run


def units(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, ch: Senders, now: datetime, limit: int
) -> tuple[list[Unit], int]:
    rows = run(
        con,
        f"""
        SELECT message_id, channel, recipient, urgency, subject, body_text, body_html,
               CAST(payload AS VARCHAR), recipient_id, recipient_role, calendar_id
        FROM outbox o
        WHERE {DUE} AND channel <> 'crm_csv'
        ORDER BY (urgency = 'immediate') DESC, created_at, message_id
        """,
        {"now": now, "live": ch.live_channels()},
    ).fetchall()
    units: list[Unit] = []
    digests: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    waiting = 0
    for r in rows:
        mid, channel, recipient, urgency, subject, text, html, payload = r[:8]
        if not ch.configured(channel, recipient):
            waiting += 1
            continue
        if urgency == "digest":
            digests.setdefault((channel, recipient), []).append(r)
            continue
        units.append(
            Unit(
                Outgoing(
                    mid,
                    channel,
                    recipient,
                    subject or "",
                    text or "",
                    html or "",
                    json.loads(payload) if payload else {},
                ),
                [mid],
            )
        )
    n = rules.notifications
    assert n is not None
    env = environment(str(rules.root / "templates" / "messages"))
    for (channel, recipient), items in digests.items():
        if len(items) == 1:  # a digest of one is just the message
            r = items[0]
            units.append(
                Unit(Outgoing(r[0], channel, recipient, r[4] or "", r[5] or "", r[6] or ""), [r[0]])
            )
            continue
        ids = sorted(r[0] for r in items)
        key = hashlib.sha256("|".join(ids).encode()).hexdigest()[:32]
        member = rules.members.get(items[0][8] or "")
        ctx = {
            "items": [{"subject": r[4], "text": r[5]} for r in items],
            "recipient_name": member.name if member else "team",
            "org": rules.org.name, "message_id": key, "rule_id": "digest", "why": [],
            "next_step": None, "lead": {"record_url": None},
        }  # fmt: skip
        subject = env.get_template("digest.subject.txt").render(ctx).strip()
        units.append(
            Unit(
                Outgoing(
                    key,
                    channel,
                    recipient,
                    subject,
                    env.get_template("digest.txt").render(ctx),
                    env.get_template("digest.html").render(ctx),
                ),
                ids,
                key,
            )
        )
    return units[:limit], waiting
