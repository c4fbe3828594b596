"""Step ``activities``: store an activity export's new activities and the first responses
they show (for sources whose response signal is ``activities``)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.ingest import ExportFile
from leadsla.rules.source_models import Source
from leadsla.sql import scalar

STEP = EngineStep(
    "activities", reads=("incoming", "activities", "lead_state", "sources"), returns="lead_state"
)


def apply_activities(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> int:
    """Store new activities; for leads whose source reads responses from activities, the first
    outbound call/email/meeting/sms by the lead's owner is the first response. Returns the
    rows superseded by a later line for the same activity."""
    params = {"export_at": f.export_at, "source_id": source.id}
    STEP.run(con, "insert", params)
    superseded = scalar(
        con,
        "SELECT (SELECT count(*) FROM incoming) - (SELECT count(DISTINCT activity_id) "
        "FROM incoming)",
    )
    STEP.run(con, "response", params)
    return int(superseded or 0)
