"""``leadsla issue raise``: a lead issue written as a canonical export, then one tick."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from leadsla.cli.common import (
    NOW_HELP,
    add_common,
    channels,
    command,
    emit,
    now_of,
    parse_time,
    settings,
)


def cmd_issue_raise(args: argparse.Namespace) -> int:
    """Raise a lead issue: written as a canonical issue export, then one tick at ``now`` so
    the raiser sees at once whether it escalated or what is missing."""
    import duckdb

    from leadsla.events import content_id
    from leadsla.issues.intake import write_issue
    from leadsla.pipelines.tick import run_tick

    now = now_of(args)
    s = settings(args)
    issue_id = (
        args.issue_id
        or "ISS-" + content_id(args.lead or "", args.type or "", now.isoformat())[:10].upper()
    )
    record = {
        "issue_id": issue_id,
        "lead_id": args.lead,
        "raised_by": args.raised_by,
        "issue_type": args.type,
        "summary": args.summary,
        "impact": args.impact,
        "customer_name": args.customer_name,
        "customer_phone": args.customer_phone,
        "device": args.device,
        "city": args.city,
        "no_escalation_reason": args.no_escalation_reason,
    }
    path = write_issue(s.exports, record, now)
    db = Path(s.db)
    run_tick(
        rules_dir=Path(s.rules),
        exports=s.exports,
        db=db,
        now=now,
        env=dict(os.environ),
        channels=channels(s.rules),
    )
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT event_type, level, target, CAST(details AS VARCHAR) FROM sla_events "
            "WHERE issue_id = ? ORDER BY occurred_at, level NULLS FIRST",
            [issue_id],
        ).fetchall()
    events = [
        {"event_type": t, "level": lv, "target": tg, "details": json.loads(d or "null")}
        for t, lv, tg, d in rows
    ]
    rejected = [e for e in events if e["event_type"] == "issue_rejected"]
    lines = [f"issue {issue_id} written to {path}"]
    for e in events:
        d = e["details"] or {}
        if e["event_type"] == "issue_escalated":
            lines.append(f"  escalated level {e['level']} to {e['target']}: {d.get('subject')}")
        elif e["event_type"] == "issue_rejected":
            lines.append(f"  NOT escalated: {d.get('message_to_raiser')}")
    emit(args, {"issue_id": issue_id, "file": path, "events": events}, "\n".join(lines))
    return 2 if rejected and not any(e["event_type"] == "issue_escalated" for e in events) else 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "issue", help="lead issues (seed 002): raise one", description="lead issues (seed 002)"
    )
    isub = p.add_subparsers(dest="issue_command", required=True)
    p = command(
        isub,
        "raise",
        "raise a lead issue (exit 2 when it is not escalated)",
        "leadsla issue raise --lead L1 --type coupon --summary 'code SAVE10 rejected' \\\n"
        "      --impact conversion_risk --raised-by rahul",
    )
    add_common(p, "rules", "exports", "db")
    p.add_argument("--lead", help="lead id")
    p.add_argument("--type", help="issue type, e.g. pickup, pricing (issues.yaml types)")
    p.add_argument("--summary", help="what blocks the lead")
    p.add_argument("--impact", help="conversion_risk, high_value, complaint_risk, other[: text]")
    p.add_argument("--customer-name", help="the customer's name, as the CRM has it")
    p.add_argument("--customer-phone", help="the customer's phone number")
    p.add_argument("--device", help="the product or device concerned")
    p.add_argument("--city", help="the customer's city (routing and serviceability)")
    p.add_argument("--raised-by", help="the agent raising it (org.yaml member id)")
    p.add_argument("--issue-id", help="default: derived from lead, type and time")
    p.add_argument("--no-escalation-reason", help="e.g. customer_thinking (not a blocker)")
    p.add_argument("--now", type=parse_time, help=NOW_HELP)
    p.set_defaults(func=cmd_issue_raise)
