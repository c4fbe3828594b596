"""Step ``merge``: bring lead state up to date from one export, set-wise, and record what changed.

One export (``incoming``) becomes events by diffing it against ``lead_state`` in SQL: new leads
(``lead_received``), owner and status changes, first responses and outcomes. A row only
overwrites state when its ``updated_at`` is not older than what state already has (latest
``updated_at`` wins; ties go to the later export), so exports loaded out of order cannot roll a
lead back. Event ids derive from content, so loading the same facts twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.ingest import ExportFile
from leadsla.rules.records import CLOSING_OUTCOMES, OUTCOMES, RESPONDED_OUTCOMES
from leadsla.rules.source_models import Source
from leadsla.sql import scalar

STEP = EngineStep("merge", reads=("incoming", "lead_state", "members"), returns="lead_state")


def sql_list(values: tuple[str, ...]) -> str:
    """A constant list from code (never from rule files) as SQL."""
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


RESPONDED = sql_list(("answered", *RESPONDED_OUTCOMES))
CLOSING = sql_list(CLOSING_OUTCOMES)
OUTCOME = sql_list(OUTCOMES)

#: Lead fields a CRM export describes the lead with (no SLA meaning of their own).
DESCRIPTIVE = ("name", "email", "phone", "lead_source", "campaign", "form_type",
               "service_interest", "message", "city", "territory", "device", "company_size",
               "lead_score", "estimated_value")  # fmt: skip

#: Lead-state columns the merge of an export reads (besides those ``joined`` names itself).
STATE_READ = (*DESCRIPTIVE, "record_url", "owner", "owner_origin", "status_class",
              "outcome_at", "progressed_at", "progressed_seen_at", "first_response_at",
              "response_at", "response_via")  # fmt: skip

#: One UPDATE per group of columns, each only where that group changed: DuckDB rewrites every
#: column an UPDATE names for every row group it touches (at the commit's checkpoint), so naming
#: 30 columns for a status change cost a million-lead tick two seconds. Every value an UPDATE
#: reads is already in ``joined`` (one scan of lead state) and rows are found by rowid (stable
#: inside this transaction: nothing here moves a row), so an UPDATE reads no lead-state column
#: at all. No group reads a column an earlier group writes, so the snapshot in ``joined`` is
#: what each would have read.
UPDATE_GROUPS = ("descriptive", "owner", "status", "response", "always")

#: ``row_quarantined`` for every row one file put in quarantine during this tick.
QUARANTINE_EVENTS_SQL = STEP.sql("quarantine_events")

_LISTS = {"outcome": OUTCOME, "closing": CLOSING, "responded": RESPONDED}


def apply_leads(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> int:
    """Merge ``incoming`` (one export's typed rows) into ``lead_state``. Returns the number of
    rows superseded (duplicates within the file, or older than what state holds)."""
    params = {
        "export_at": f.export_at,
        "now": now,
        "source_id": source.id,
        "file": f.url,
        "checksum": f.checksum,
        "url": source.record_url,
    }
    repeats = bool(scalar(con, "SELECT count(*) - count(DISTINCT lead_id) FROM incoming"))
    STEP.run(con, "known")
    STEP.run(
        con,
        "joined",
        params,
        signal=source.response_signal,
        state_read=STATE_READ,
        repeats=repeats,
        **_LISTS,
    )
    superseded = scalar(
        con,
        "SELECT (SELECT count(*) FROM incoming) - count(*) FILTER (WHERE applies) FROM joined",
    )
    STEP.run(con, "events", params, **_LISTS)
    for group in UPDATE_GROUPS:
        STEP.run(con, f"update_{group}", params, descriptive=DESCRIPTIVE, **_LISTS)
    STEP.run(con, "insert", params, **_LISTS)
    STEP.run(con, "history", params)
    return int(superseded or 0)
