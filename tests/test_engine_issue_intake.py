"""Steps ``issue_intake`` and ``issue_verdict`` alone, on a handful of issue rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadsla.engine.issue_intake import apply_issues
from leadsla.engine.issue_verdict import judge_issues
from leadsla.engine.rule_tables import register_rules
from leadsla.events import content_id
from leadsla.ingest import ExportFile
from leadsla.rules import RuleSet, load_rules
from leadsla.rules.records import ISSUE_FIELDS

from ._stepdb import rows, step_db

REPO = Path(__file__).resolve().parent.parent
RAISED = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
EXPORT_AT = RAISED + timedelta(minutes=15)
TIMES = {"raised_at", "responded_at", "resolved_at"}
COMPLETE = {"lead_id": "L1", "raised_at": RAISED, "raised_by": "rahul", "issue_type": "pickup",
            "summary": "Vendor unavailable", "impact": "conversion_risk",
            "customer_name": "Asha Rao", "customer_phone": "+91 98200 00000",
            "device": "Samsung A15", "city": "Mumbai"}  # fmt: skip


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(REPO / "sla_rules")


def _load(rules: RuleSet, con: duckdb.DuckDBPyConnection, issues: list[dict[str, Any]]) -> int:
    source = next(s for s in rules.sources if s.entity == "issues")
    # the status class as the load's projection gives it (the source's status map)
    classes = source.status_classes()
    cols = ", ".join(f"{c} {'TIMESTAMPTZ' if c in TIMES else 'VARCHAR'}" for c in ISSUE_FIELDS)
    con.execute(f"CREATE OR REPLACE TABLE incoming ({cols}, status_class VARCHAR, line BIGINT)")
    for line, r in enumerate(issues, start=2):
        status = (r.get("status") or "").strip().lower()
        klass = classes.get(status, source.unknown_status) if status else "open"
        con.execute(
            f"INSERT INTO incoming VALUES ({', '.join('?' for _ in ISSUE_FIELDS)}, ?, ?)",
            [r.get(c) for c in ISSUE_FIELDS] + [klass, line],
        )
    f = ExportFile("issues_x.csv", "issues_x.csv", source, EXPORT_AT, "filename", 0, "c")
    return apply_issues(con, f, source, EXPORT_AT)


def test_new_issues_are_raised_once_and_judged(rules: RuleSet) -> None:
    con = step_db()
    register_rules(con, rules)
    superseded = _load(
        rules,
        con,
        [
            {**COMPLETE, "issue_id": "I1", "summary": "first line"},
            {**COMPLETE, "issue_id": "I1"},  # a later line of the same issue wins
            {**COMPLETE, "issue_id": "I2", "customer_phone": None, "city": " "},
            {**COMPLETE, "issue_id": "I3", "no_escalation_reason": "Customer_Thinking"},
            {**COMPLETE, "issue_id": "I4", "status": "Resolved"},
        ],
    )
    assert superseded == 1
    raised = rows(con, "SELECT issue_id, event_id FROM sla_events ORDER BY issue_id")
    assert raised == [
        {"issue_id": i, "event_id": content_id(i, "issue_raised")} for i in ("I1", "I2", "I3", "I4")
    ]
    state = {r["issue_id"]: r for r in rows(con, "SELECT * FROM issue_state")}
    assert state["I1"]["summary"] == "Vendor unavailable"
    assert state["I4"]["resolved_at"] == EXPORT_AT  # a status that means resolved, at the export
    assert judge_issues(con, rules, EXPORT_AT) == (4, 2)
    rejected = {
        r["issue_id"]: json.loads(r["details"])
        for r in rows(
            con,
            "SELECT issue_id, CAST(details AS VARCHAR) AS details FROM sla_events "
            "WHERE event_type = 'issue_rejected'",
        )
    }
    assert rejected["I2"]["reason"] == "missing_fields"
    assert rejected["I2"]["missing_fields"] == ["customer_phone", "city"]
    assert "Add customer_phone, city" in rejected["I2"]["message_to_raiser"]
    assert rejected["I3"]["reason"] == "not_a_blocker"
    verdicts = rows(con, "SELECT issue_id, verdict, valid_from FROM issue_state ORDER BY 1")
    assert [(v["issue_id"], v["verdict"]) for v in verdicts] == [
        ("I1", "valid"), ("I2", "rejected"), ("I3", "rejected"), ("I4", "valid")
    ]  # fmt: skip
    assert verdicts[0]["valid_from"] == RAISED
    # the same export again changes nothing and judges nothing
    assert _load(rules, con, [{**COMPLETE, "issue_id": "I1"}]) == 0
    assert judge_issues(con, rules, EXPORT_AT) == (0, 0)
    assert rows(con, "SELECT count(*) AS n FROM sla_events")[0]["n"] == 6
