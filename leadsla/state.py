"""Bring lead state up to date from one export, set-wise, and record what changed.

One export becomes events by diffing it against ``lead_state`` in SQL: new leads
(``lead_received``), owner and status changes, first responses and outcomes. A row only
overwrites state when its ``updated_at`` is not older than what state already has (latest
``updated_at`` wins; ties go to the later export), so exports loaded out of order cannot roll a
lead back. Event ids derive from content, so loading the same facts twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.ingest import ExportFile
from leadsla.rules.models import CLOSING_OUTCOMES, OUTCOMES, RESPONDED_OUTCOMES, Source
from leadsla.sql import run, scalar


def sql_list(values: tuple[str, ...]) -> str:
    """A constant list from code (never from rule files) as SQL."""
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


RESPONDED = sql_list(("answered", *RESPONDED_OUTCOMES))
CLOSING = sql_list(CLOSING_OUTCOMES)
OUTCOME = sql_list(OUTCOMES)

#: Lead fields a CRM export describes the lead with (no SLA meaning of their own).
_DESCRIPTIVE = ("name", "email", "phone", "lead_source", "campaign", "form_type",
                "service_interest", "message", "city", "territory", "device", "company_size",
                "lead_score", "estimated_value")  # fmt: skip

#: Lead-state columns the merge of an export reads (besides those ``joined`` names itself).
_STATE_READ = (*_DESCRIPTIVE, "record_url", "owner", "owner_origin", "status_class",
               "outcome_at", "progressed_at", "progressed_seen_at", "first_response_at",
               "response_at", "response_via")  # fmt: skip

EVENT_COLS = (
    "event_id, event_type, lead_id, issue_id, occurred_at, recorded_at, rule_id, policy_id, "
    "level, owner, target, details"
)


def never_before_creation(at: str, created: str) -> str:
    """SQL of a response time ``at`` that is never before the record's creation ``created``.

    Ingest already drops a response dated before the row's own creation (with a warning); what
    is left is a response derived from a status (the export's time, within the clock skew of
    a creation time) or a creation time that a later export moved. Clamping it to the creation
    keeps business minutes from going negative: a response never counts as met by a negative
    time."""
    return f"CASE WHEN ({at}) IS NOT NULL THEN greatest({at}, {created}) END"


def event_id_sql(*parts: str) -> str:
    """Content-derived event id: the same facts always give the same id. MD5 is an identity
    here, not a security boundary (nobody gains by forging an id for their own facts), and it
    costs half of SHA-256 on the hundreds of thousands of events a first load writes."""
    return "md5(concat_ws('|', " + ", ".join(parts) + "))"


#: ``row_quarantined`` for every row one file put in quarantine during this tick; the file's
#: checksum is part of the id, so a rewritten file with the same bad line is a new event.
QUARANTINE_EVENTS_SQL = f"""
    INSERT INTO sla_events ({EVENT_COLS})
    SELECT {
    event_id_sql("file", "$checksum", "CAST(line AS VARCHAR)", "'row_quarantined'", "reason")
},
           'row_quarantined', NULL, NULL, $export_at, $now, 'quarantine', NULL, NULL, NULL,
           NULL,
           json_object('file', file, 'line', line, 'reason', reason, 'action', action,
                       'source_id', source_id)
    FROM quarantine WHERE file = $file AND recorded_at = $now
"""


def apply_leads(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> int:
    """Merge ``incoming`` (one export's typed rows) into ``lead_state``. Returns the number of
    rows superseded (duplicates within the file, or older than what state holds)."""
    if source.response_signal == "first_response_at":
        resp = (
            f"coalesce(i.first_response_at, CASE WHEN list_contains({RESPONDED}, i.status_class)"
            " THEN coalesce(i.updated_at, $export_at) END)"
        )
        via = "CASE WHEN i.first_response_at IS NOT NULL THEN 'first_response_at' ELSE 'status' END"
    elif source.response_signal == "status_change":
        resp = (
            f"CASE WHEN list_contains({RESPONDED}, i.status_class) "
            "THEN coalesce(i.updated_at, $export_at) END"
        )
        via = "'status'"
    else:  # activities: the activity export decides (apply_activities)
        resp = "NULL::TIMESTAMPTZ"
        via = "NULL"
    params = {
        "export_at": f.export_at,
        "now": now,
        "source_id": source.id,
        "file": f.url,
        "url": source.record_url,
    }
    # within a file the newest updated_at wins, then the later line: deterministic (the window
    # is skipped when no lead id repeats, as in most exports)
    latest = "SELECT * FROM incoming"
    if scalar(con, "SELECT count(*) - count(DISTINCT lead_id) FROM incoming"):
        latest += """
            QUALIFY row_number() OVER (PARTITION BY lead_id
                                       ORDER BY updated_at DESC NULLS LAST, line DESC) = 1"""
    # Lead state's rows for these leads: found by reading lead_id alone, then fetched by rowid,
    # instead of reading two dozen columns of every lead to keep a few percent of them.
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.known AS
        SELECT s.lead_id, s.rowid AS srid FROM lead_state s SEMI JOIN incoming i USING (lead_id)
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.joined AS
        SELECT i.*, {never_before_creation(resp, "coalesce(s.created_at, i.created_at)")}
                   AS resp_new, {via} AS resp_via,
               replace($url, '{{lead_id}}', i.lead_id) AS url,
               s.lead_id IS NULL AS is_new,
               s.crm_owner AS s_owner, s.crm_status AS s_status, s.outcome AS s_outcome,
               s.responded_seen_at AS s_responded_seen_at, s.closed_seen_at AS s_closed_seen_at,
               s.updated_at AS s_updated_at,
               (s.lead_id IS NULL OR i.updated_at IS NULL OR s.updated_at IS NULL
                OR i.updated_at >= s.updated_at) AS applies,
               i.raw_hash AS row_hash, k.srid,
               {", ".join(f"s.{c} AS st_{c}" for c in _STATE_READ)}
        FROM ({latest}) i LEFT JOIN known k USING (lead_id)
        LEFT JOIN lead_state s ON s.rowid = k.srid
        """,
        params,
    )
    row = scalar(
        con,
        "SELECT (SELECT count(*) FROM incoming) - count(*) FILTER (WHERE applies) FROM joined",
    )
    superseded = int(row or 0)
    changed_at = "coalesce(j.updated_at, $export_at)"
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("j.lead_id", "'lead_received'")}, 'lead_received', j.lead_id, NULL,
               j.created_at, $now, 'ingest', NULL, NULL, j.owner, NULL,
               json_object('source_id', $source_id, 'file', $file, 'line', j.line,
                           'export_at', $export_at,
                           'export_lag_minutes',
                           round(date_diff('second', j.created_at, $export_at) / 60.0, 2))
        FROM joined j WHERE j.is_new
        UNION ALL
        SELECT {
            event_id_sql(
                "j.lead_id",
                "'owner_changed'",
                "CAST($export_at AS VARCHAR)",
                "coalesce(j.owner, '')",
            )
        },
               'owner_changed', j.lead_id, NULL, {changed_at}, $now, 'ingest', NULL, NULL,
               j.s_owner, j.owner, json_object('from', j.s_owner, 'to', j.owner, 'file', $file)
        FROM joined j
        WHERE NOT j.is_new AND j.applies AND j.owner IS DISTINCT FROM j.s_owner
        UNION ALL
        SELECT {
            event_id_sql(
                "j.lead_id",
                "'status_changed'",
                "CAST($export_at AS VARCHAR)",
                "coalesce(j.status, '')",
            )
        },
               'status_changed', j.lead_id, NULL, {changed_at}, $now, 'ingest', NULL, NULL,
               j.owner, NULL,
               json_object('from', j.s_status, 'to', j.status, 'class', j.status_class,
                           'file', $file)
        FROM joined j
        WHERE NOT j.is_new AND j.applies AND j.status IS DISTINCT FROM j.s_status
        UNION ALL
        SELECT {event_id_sql("j.lead_id", "'outcome_logged'", "j.status_class")},
               'outcome_logged', j.lead_id, NULL, {changed_at}, $now, 'status_map', NULL, NULL,
               j.owner, NULL,
               json_object('outcome', j.status_class, 'crm_status', j.status, 'file', $file)
        FROM joined j
        WHERE j.applies AND list_contains({OUTCOME}, j.status_class)
          AND j.status_class IS DISTINCT FROM j.s_outcome
        """,
        params,
    )
    # One UPDATE per group of columns, each only where that group changed: DuckDB rewrites
    # every column an UPDATE names for every row group it touches (at the commit's checkpoint),
    # so naming 30 columns for a status change cost a million-lead tick two seconds. Every
    # value an UPDATE reads is already in ``joined`` (one scan of lead state) and rows are
    # found by rowid (stable inside this transaction: nothing here moves a row), so an UPDATE
    # reads no lead-state column at all. No group reads a column an earlier group writes, so
    # the snapshot in ``joined`` is what each would have read.
    member = "j.owner IN (SELECT member_id FROM members)"
    groups = {
        "descriptive": (
            ", ".join(f"{c} = j.{c}" for c in _DESCRIPTIVE)
            + ", record_url = coalesce(j.url, j.st_record_url)",
            " OR ".join(f"j.st_{c} IS DISTINCT FROM j.{c}" for c in _DESCRIPTIVE)
            + " OR (j.url IS NOT NULL AND j.url IS DISTINCT FROM j.st_record_url)",
        ),
        # a CRM owner change is adopted (the CRM is the system of record for ownership)
        "owner": (
            f"crm_owner = j.owner, owner = CASE WHEN {member} THEN j.owner ELSE j.st_owner END, "
            f"owner_origin = CASE WHEN {member} THEN 'crm' ELSE j.st_owner_origin END",
            "j.owner IS DISTINCT FROM j.s_owner",
        ),
        "status": (
            f"""crm_status = j.status, status_class = j.status_class,
            outcome = CASE WHEN list_contains({OUTCOME}, j.status_class) THEN j.status_class
                           ELSE j.s_outcome END,
            outcome_at = CASE WHEN list_contains({OUTCOME}, j.status_class)
                               AND j.status_class IS DISTINCT FROM j.s_outcome
                              THEN {changed_at} ELSE j.st_outcome_at END,
            closed_seen_at = coalesce(j.s_closed_seen_at,
                CASE WHEN list_contains({CLOSING}, j.status_class) THEN $export_at END),
            -- the next step after a known response: the next status the CRM shows
            progressed_at = CASE WHEN j.st_progressed_at IS NULL
                                      AND j.s_responded_seen_at IS NOT NULL
                                 THEN {changed_at} ELSE j.st_progressed_at END,
            progressed_seen_at = CASE WHEN j.st_progressed_seen_at IS NULL
                                       AND j.s_responded_seen_at IS NOT NULL
                                      THEN $export_at ELSE j.st_progressed_seen_at END""",
            "j.status IS DISTINCT FROM j.s_status"
            " OR j.status_class IS DISTINCT FROM j.st_status_class",
        ),
        "response": (
            """first_response_at = j.first_response_at,
            response_at = coalesce(j.st_response_at, j.resp_new),
            response_via = coalesce(j.st_response_via, CASE WHEN j.resp_new IS NOT NULL
                                                            THEN j.resp_via END),
            responded_seen_at = coalesce(j.s_responded_seen_at,
                                         CASE WHEN j.resp_new IS NOT NULL THEN $export_at END)""",
            "j.first_response_at IS DISTINCT FROM j.st_first_response_at"
            " OR (j.st_response_at IS NULL AND j.resp_new IS NOT NULL)",
        ),
        "always": (
            "updated_at = j.updated_at, last_export_at = $export_at, row_hash = j.row_hash",
            "true",
        ),
    }
    for sets, changed in groups.values():
        run(
            con,
            f"""
            UPDATE lead_state s SET {sets}
            FROM joined j
            WHERE s.rowid = j.srid AND NOT j.is_new AND j.applies AND ({changed})
            """,
            params,
        )
    run(
        con,
        f"""
        INSERT INTO lead_state (lead_id, source_id, created_at, name, email, phone, lead_source,
            campaign, form_type, service_interest, message, city, territory, device,
            company_size, lead_score, estimated_value, crm_owner, crm_status, status_class,
            first_response_at, updated_at, record_url, first_seen_at, last_export_at,
            response_at, response_via, responded_seen_at, outcome, outcome_at, closed_seen_at,
            previous_owners, hop, hop_started_at, row_hash)
        SELECT j.lead_id, $source_id, j.created_at, j.name, j.email, j.phone, j.lead_source,
            j.campaign, j.form_type, j.service_interest, j.message, j.city, j.territory,
            j.device, j.company_size, j.lead_score, j.estimated_value, j.owner, j.status,
            j.status_class, j.first_response_at, j.updated_at, j.url, $export_at, $export_at,
            j.resp_new, CASE WHEN j.resp_new IS NOT NULL THEN j.resp_via END,
            CASE WHEN j.resp_new IS NOT NULL THEN $export_at END,
            CASE WHEN list_contains({OUTCOME}, j.status_class) THEN j.status_class END,
            CASE WHEN list_contains({OUTCOME}, j.status_class) THEN {changed_at} END,
            CASE WHEN list_contains({CLOSING}, j.status_class) THEN $export_at END,
            []::VARCHAR[], 0, j.created_at, j.row_hash
        FROM joined j WHERE j.is_new
        """,
        params,
    )
    run(
        con,
        """
        INSERT INTO lead_history
        SELECT j.lead_id, $export_at, $source_id, $file, j.owner, j.status, j.status_class,
               j.first_response_at, j.updated_at
        FROM joined j
        WHERE j.applies AND (j.is_new OR j.owner IS DISTINCT FROM j.s_owner
                             OR j.status IS DISTINCT FROM j.s_status)
        """,
        params,
    )
    return int(superseded or 0)


def apply_activities(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> int:
    """Store new activities; for leads whose source reads responses from activities, the first
    outbound call/email/meeting/sms by the lead's owner is the first response."""
    params = {"export_at": f.export_at, "source_id": source.id}
    run(
        con,
        """
        INSERT INTO activities
        SELECT i.activity_id, i.lead_id, i.occurred_at, lower(i.type), i.actor,
               lower(i.direction), $source_id, $export_at
        FROM (SELECT * FROM incoming QUALIFY row_number() OVER (
                  PARTITION BY activity_id ORDER BY line DESC) = 1) i
        ANTI JOIN activities a ON a.activity_id = i.activity_id
        """,
        params,
    )
    superseded = scalar(
        con,
        "SELECT (SELECT count(*) FROM incoming) - (SELECT count(DISTINCT activity_id) "
        "FROM incoming)",
    )
    run(
        con,
        """
        UPDATE lead_state s SET response_at = r.first_at, response_via = 'activity',
               responded_seen_at = $export_at
        FROM (
            SELECT a.lead_id, min(a.occurred_at) AS first_at
            FROM activities a JOIN lead_state l USING (lead_id)
            JOIN sources src ON src.source_id = l.source_id
            WHERE src.response_signal = 'activities' AND l.responded_seen_at IS NULL
              AND a.direction = 'outbound' AND a.type IN ('call', 'email', 'meeting', 'sms')
              AND a.occurred_at >= l.created_at  -- a call before the lead existed answers nothing
              AND (a.actor = l.owner OR a.actor = l.crm_owner
                   OR list_contains(l.previous_owners, a.actor))
            GROUP BY a.lead_id
        ) r
        WHERE s.lead_id = r.lead_id
        """,
        params,
    )
    return int(superseded or 0)
