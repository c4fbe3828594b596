"""Feeds the review must be right on, built through real ticks and then made hostile: every
optional dimension null in every combination (owner, team, lead source, service, intent and
policy on leads; lead, team, type, city, device and level on issues), and a feed of issues only.

The leads come from a canonical export replayed by the real tick (so the log has the shape the
engine writes); the nulls are then written into the tick's own tables: lead ``i`` loses the
dimensions of the set bits of ``i``, so 32 leads cover all 2^5 combinations, and 32 issues
the 2^5 of theirs. One dbt build then sees every combination at once (a hypothesis search
would pay a build per example and reach fewer of them).
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from leadsla.pipelines.tick import replay

from .conftest import LEAD_HEADER, REPO

#: The review day and the moment its build judges (the end of that day in Kolkata).
DAY = datetime(2026, 11, 23, tzinfo=UTC).date()
START = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)  # 09:00 in Kolkata
END = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # midnight in Kolkata: the day's end

#: Lead dimensions nulled by bit: column of lead_state, and the details keys of its events.
LEAD_DIMS = (
    ("owner", ()),
    ("team", ("team", "teams")),
    ("lead_source", ("lead_source",)),
    ("service_interest", ("service_interest",)),
    ("intent", ()),
)
#: Issue dimensions nulled by bit (lead_id and level are columns, the rest details keys).
ISSUE_DIMS = ("lead_id", "teams", "issue_type", "city", "device")
N = 32


def _write_leads(exports: Path) -> None:
    sources = ["google", "referral", "meta"]
    rows = []
    for i in range(N):
        answered = i % 3 == 0
        rows.append(
            {
                "lead_id": f"L{i:02d}",
                "created_at": f"2026-11-23 {10 + i % 8:02d}:{(7 * i) % 60:02d}",
                "name": f"N{i}",
                "email": f"n{i}@x.io",
                "lead_source": sources[i % 3],
                "form_type": "contact_form",
                "service_interest": "seo" if i % 2 else "ppc",
                "owner": ["rahul", "sneha", ""][i % 3],
                "status": "contacted" if answered else "new",
                "first_response_at": f"2026-11-23 {10 + i % 8:02d}:50" if answered else "",
            }
        )
    path = exports / "leads_20261123T130000Z.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=LEAD_HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in LEAD_HEADER})


def _null_leads(con: duckdb.DuckDBPyConnection) -> None:
    """Lead i (by lead_id order) loses the dimensions of the set bits of i, in its state and
    in every event about it."""
    ids = [r[0] for r in con.execute("SELECT lead_id FROM lead_state ORDER BY 1").fetchall()]
    for i, lead in enumerate(ids):
        for bit, (column, keys) in enumerate(LEAD_DIMS):
            if not i >> bit & 1:
                continue
            extra = ", policy_id = NULL" if column == "intent" else ""
            con.execute(f"UPDATE lead_state SET {column} = NULL{extra} WHERE lead_id = ?", [lead])
            if column == "owner":
                con.execute(
                    "UPDATE sla_events SET owner = NULL, target = NULL WHERE lead_id = ?", [lead]
                )
            if column == "intent":
                con.execute("UPDATE sla_events SET policy_id = NULL WHERE lead_id = ?", [lead])
            if keys:
                patch = json.dumps(dict.fromkeys(keys))  # a merge patch: null removes the key
                con.execute(
                    "UPDATE sla_events SET details = json_merge_patch(details, ?) "
                    "WHERE lead_id = ? AND details IS NOT NULL",
                    [patch, lead],
                )


def _insert_issues(con: duckdb.DuckDBPyConnection, lead_ids: list[str]) -> None:
    """N issues raised, escalated (L1, L2 for odd ones, L3 for every fourth), resolved for
    even ones; issue i loses the dimensions of the set bits of i. Plus held-back messages
    and a rejected issue with nothing but their type."""
    rows: list[tuple[object, ...]] = []
    for i in range(N):
        issue = f"I{i:02d}"
        lead = None if i & 1 or not lead_ids else lead_ids[i % len(lead_ids)]
        details = {"teams": ["support"], "issue_type": ["pickup", "pricing"][i % 2],
                   "city": "Pune", "device": "ios"}  # fmt: skip
        for bit, key in enumerate(ISSUE_DIMS[1:], start=1):
            if i >> bit & 1:
                details.pop(key)
        raised = START + timedelta(minutes=20 * i)
        levels = [1] + ([2] if i % 2 else []) + ([3] if i % 4 == 0 else [])
        events = [("issue_raised", raised, None)]
        events += [("issue_escalated", raised + timedelta(minutes=15 * lv), lv) for lv in levels]
        if i % 2 == 0:
            events.append(("issue_resolved", raised + timedelta(hours=2), None))
        for etype, at, level in events:
            at = min(at, END)
            rows.append((f"{issue}-{etype}-{level}", etype, lead, issue, at, at,
                         "issue.rule" if level else None, None,
                         None if i & 2 and level else level, json.dumps(details)))  # fmt: skip
    bare = START + timedelta(hours=1)
    for etype in ("issue_rejected", "notification_dead", "notification_suppressed",
                  "notification_deferred"):  # fmt: skip
        rows.append((f"bare-{etype}", etype, None, None, bare, bare, None, None, None, None))
    con.executemany(
        "INSERT INTO sla_events (event_id, event_type, lead_id, issue_id, occurred_at, "
        "recorded_at, rule_id, policy_id, level, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def build_feed(tmp_path: Path, *, issues_only: bool = False) -> Path:
    """The tick's database of a hostile feed (see the module docstring); returns its path."""
    rules = tmp_path / "sla_rules"
    shutil.copytree(REPO / "sla_rules", rules)
    exports = tmp_path / "exports"
    exports.mkdir()
    if not issues_only:
        _write_leads(exports)
    db = tmp_path / "feed.duckdb"
    replay(rules_dir=rules, exports=str(exports), db=db, start=START, end=END,
           every=timedelta(hours=1))  # fmt: skip
    con = duckdb.connect(str(db))
    try:
        con.execute("SET TimeZone = 'UTC'")
        _null_leads(con)
        leads = [r[0] for r in con.execute("SELECT lead_id FROM lead_state ORDER BY 1").fetchall()]
        _insert_issues(con, leads)
    finally:
        con.close()
    return db
