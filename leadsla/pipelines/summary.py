"""What one tick did, read back from the event log and the manifest (the truth), for people
(markdown), the Prefect UI (rows) and ``leadsla tick --json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import fsspec

from leadsla.ingest import Later


@dataclass
class TickSummary:
    """What one tick did, for people (markdown) and the Prefect UI (rows)."""

    now: datetime
    files: list[dict[str, Any]] = field(default_factory=list)
    events_by_type: dict[str, int] = field(default_factory=dict)
    fired_rows: list[dict[str, Any]] = field(default_factory=list)
    new_events: int = 0
    #: files left for a later tick: their export time is after ``now``
    later: list[Later] = field(default_factory=list)

    @property
    def later_line(self) -> str | None:
        """One sentence on the files left for later, naming the first few; None if none."""
        if not self.later:
            return None
        first = ", ".join(
            f"{f.name} ({f.export_at.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            f"{', by its modification time' if f.export_at_from == 'mtime' else ''})"
            for f in self.later[:3]
        )
        more = f" and {len(self.later) - 3} more" if len(self.later) > 3 else ""
        return (
            f"{len(self.later)} file(s) left for a later tick, their export time being after "
            f"now: {first}{more}. A file's export time is the stamp in its name (e.g. "
            "leads_20261123T090500Z.csv), else its modification time."
        )

    @property
    def markdown(self) -> str:
        lines = [f"# leadsla tick at {self.now.isoformat()}", ""]
        if self.files:
            lines += ["| file | source | status | rows | quarantined |", "|---|---|---|---|---|"]
            lines += [
                f"| {f['name']} | {f.get('source_id') or '-'} | {f['status']} | "
                f"{f.get('rows_loaded', 0)} | {f.get('rows_quarantined', 0)} |"
                for f in self.files
            ]
        else:
            lines.append("No new export files.")
        if self.later_line:
            lines += ["", self.later_line]
        lines += ["", f"**{self.new_events} new events**", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(self.events_by_type.items())]
        return "\n".join(lines)


def later_descriptors(later: list[Later]) -> list[dict[str, str]]:
    """Files left for later as plain values (they cross a Prefect task boundary)."""
    return [
        {"name": f.name, "export_at": f.export_at.isoformat(), "export_at_from": f.export_at_from}
        for f in later
    ]


def later_from_descriptors(rows: list[dict[str, str]]) -> list[Later]:
    return [
        Later(r["name"], datetime.fromisoformat(r["export_at"]), r["export_at_from"]) for r in rows
    ]


def tick_summary(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    later: list[Later] | None = None,
    limit: int = 200,
) -> TickSummary:
    """Events recorded at this ``now`` (the tick's own), by type, plus the first ``limit``
    rows, and the files the manifest recorded at ``now``."""
    by_type = dict(
        con.execute(
            # the tick's decisions; delivery outcomes have their own summary (DeliveryResult)
            "SELECT event_type, count(*) FROM sla_events WHERE recorded_at = ? "
            "AND event_type NOT LIKE 'notification_%' GROUP BY 1 ORDER BY 1",
            [now],
        ).fetchall()
    )
    cur = con.execute(
        """
        SELECT event_type, lead_id, strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ'),
               owner, target, level, rule_id, policy_id
        FROM sla_events WHERE recorded_at = ? AND event_type NOT LIKE 'notification_%'
          AND event_type NOT IN ('lead_received', 'intent_classified', 'lead_assigned')
        ORDER BY occurred_at, lead_id LIMIT ?
        """,
        [now, limit],
    )
    cols = [
        "event_type",
        "lead_id",
        "occurred_at",
        "owner",
        "target",
        "level",
        "rule_id",
        "policy_id",
    ]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    files = [
        dict(
            zip(
                [
                    "name",
                    "source_id",
                    "status",
                    "rows_loaded",
                    "rows_quarantined",
                    "rows_skipped",
                    "reason",
                ],
                r,
                strict=True,
            )
        )
        for r in con.execute(
            "SELECT path, source_id, status, rows_loaded, rows_quarantined, rows_skipped, "
            "reason "
            "FROM export_manifest WHERE recorded_at = ? ORDER BY export_at, path",
            [now],
        ).fetchall()
    ]
    for f in files:
        f["name"] = fsspec.core.url_to_fs(f["name"])[1].rsplit("/", 1)[-1]
    return TickSummary(
        now=now,
        files=files,
        events_by_type={k: int(v) for k, v in by_type.items()},
        fired_rows=rows,
        new_events=sum(int(v) for v in by_type.values()),
        later=later or [],
    )
