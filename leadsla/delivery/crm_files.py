"""The CRM write-back as files: one import-ready CSV of actions per tick."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from leadsla.delivery.due import DUE
from leadsla.delivery.hooks import crash_point
from leadsla.delivery.record import outcome_events_sql
from leadsla.delivery.result import DeliveryResult
from leadsla.delivery.safety import write_csv
from leadsla.events import EventType
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.sql import run
from leadsla.store import Store, transaction

CSV_COLUMNS = [
    "idempotency_key", "action", "lead_id", "issue_id", "event_type", "owner", "task_subject",
    "task_due_at", "priority", "note",
]  # fmt: skip


def crm_files(
    store: Store, n: NotificationsFile, folder: Path, now: datetime, result: DeliveryResult
) -> None:
    """One import-ready CSV per tick (the tick that enqueued the actions), written to a
    temporary name and renamed atomically. Its name and content derive from the tick, so a
    rerun after a crash rewrites the same file instead of adding a second one."""
    con = store.con
    ticks = [
        r[0]
        for r in run(
            con,
            f"SELECT DISTINCT created_at FROM outbox o WHERE {DUE} AND channel = 'crm_csv' "
            "ORDER BY 1",
            {"now": now, "live": ["crm_csv"]},
        ).fetchall()
    ]
    for tick_at in ticks:
        rows = run(
            con,
            "SELECT message_id, CAST(payload AS VARCHAR) FROM outbox WHERE channel = 'crm_csv' "
            "AND created_at = $t ORDER BY message_id",
            {"t": tick_at},
        ).fetchall()
        actions = [(mid, json.loads(p or "{}")) for mid, p in rows]
        actions = [(m, a) for m, a in actions if a.get("action") in n.crm.actions]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crm_actions_{tick_at.strftime('%Y%m%dT%H%M%SZ')}.csv"
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            write_csv(fh, CSV_COLUMNS, ([mid] + [a.get(c) for c in CSV_COLUMNS[1:]]
                                        for mid, a in actions))  # fmt: skip
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        crash_point("crm_written")
        with transaction(store) as c2:
            p = {"now": now, "t": tick_at, "file": path.name}
            sel = (
                " FROM outbox o WHERE o.channel = 'crm_csv' AND o.created_at = $t "
                "AND o.status <> 'sent'"
            )
            run(
                c2, outcome_events_sql(EventType.NOTIFICATION_SENT, "'x'", "'file', $file") + sel, p
            )
            run(
                c2,
                "UPDATE outbox SET status = 'sent', sent_at = $now, attempts = attempts + 1 "
                "WHERE channel = 'crm_csv' AND created_at = $t AND status <> 'sent'",
                p,
            )
        result.crm_files.append(str(path))
