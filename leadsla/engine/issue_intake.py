"""Step ``issue_intake``: merge one issues export into ``issue_state``, set-wise.

New issues are ``issue_raised``; a changed issue takes the newly reported values (its verdict is
made again by step ``issue_verdict``). A response or resolution is a timestamp, or a status that
means one (the source's ``status_map``, ``Source.status_classes``), never before the raise.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.ingest import ExportFile
from leadsla.rules.records import ISSUE_FIELDS
from leadsla.rules.source_models import Source
from leadsla.sql import scalar

STEP = EngineStep("issue_intake", reads=("incoming", "issue_state"), returns="issue_state")

#: Where a reported field is kept in ``issue_state`` when not under its own name: the feed's
#: team and SLA class, which routing reads beside the columns it decides.
STATE_COLUMN = {"team": "feed_team", "sla_class": "feed_sla_class"}

#: The fields an export reports, besides the response and resolution (kept first-seen/latest),
#: as (state column, field).
REPORTED = tuple(
    (STATE_COLUMN.get(c, c), c) for c in ISSUE_FIELDS if c not in ("responded_at", "resolved_at")
)


def apply_issues(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> int:
    """Merge ``incoming`` (one export's typed issue rows) into ``issue_state``; returns the
    rows superseded by a later line for the same issue."""
    params = {"export_at": f.export_at, "now": now, "source_id": source.id, "file": f.url}
    STEP.run(
        con,
        "joined",
        params,
        fields=ISSUE_FIELDS,
    )
    superseded = scalar(
        con,
        "SELECT (SELECT count(*) FROM incoming) - (SELECT count(DISTINCT issue_id) FROM incoming)",
    )
    STEP.run(con, "events", params)
    STEP.run(con, "update", params, reported=REPORTED)
    STEP.run(con, "insert", params, reported=REPORTED)
    return int(superseded or 0)
