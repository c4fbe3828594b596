"""The issue work of one evaluation: validate, route, climb and log responses, in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadsla.engine.calendar_range import cover_calendars
from leadsla.engine.issue_ladder import climb
from leadsla.engine.issue_responses import record_responses
from leadsla.engine.issue_routing import route_issues
from leadsla.engine.issue_verdict import judge_issues
from leadsla.rules import RuleSet
from leadsla.sql import scalar


@dataclass
class IssueResult:
    validated: int = 0
    rejected: int = 0
    escalations: int = 0
    responses: int = 0


#: Issues with work to do: a version not judged, a valid one not routed, or (unsettled) a
#: response or resolution to log or a threshold that has come. An issue a later export
#: rejected still counts for what happened before that export (``valid_until``).
_PENDING = """
WITH s AS (
    SELECT *, verdict = 'valid' OR (valid_until IS NOT NULL AND valid_from IS NOT NULL) AS live
    FROM issue_state
)
SELECT count(*) FROM s WHERE verdict_hash IS DISTINCT FROM row_hash
    OR (live AND teams IS NULL)
    OR (live AND NOT resolved_logged AND (resolved_at IS NOT NULL
        OR (responded_at IS NOT NULL AND NOT responded_logged)
        OR (NOT responded_logged AND max_level < CASE WHEN climbs THEN 3 ELSE 1 END
            AND (next_at IS NULL OR next_at <= $now)
            AND (verdict = 'valid' OR next_at IS NULL OR next_at < valid_until))))
"""


def evaluate_issues(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> IssueResult:
    """Validate, route and climb every unsettled issue at ``now`` (inside the caller's
    transaction, after the lead evaluation so the calendar tables cover both)."""
    res = IssueResult()
    if not scalar(con, _PENDING, {"now": now}):
        return res  # work only when something changed, a threshold came, or a response waits
    # a version no load judged (a load without the rules): judged now, timed with its export
    res.validated, res.rejected = judge_issues(con, rules, now)
    cover_calendars(con, rules, now)  # the calendar tables, shared with the lead clocks
    route_issues(con, rules)
    res.escalations = climb(con, rules, now)
    res.responses = record_responses(con, now)
    return res
