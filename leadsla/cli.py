"""``leadsla`` command line: check, tick, replay, deliver, issue raise, report, demo, schema.

This is one of the two clock edges (the other is the Prefect flow): ``--now`` defaults to the
wall clock here and nowhere below. Settings resolve flag > environment (``LEADSLA_*``) >
default. Times are ISO 8601 with an offset; naive times are refused because a wrong zone would
silently shift every SLA.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from leadsla.rules import RulesInvalid, load_rules
from leadsla.store import StoreBusy

DEFAULTS = {"rules": "./sla_rules", "exports": "./exports", "db": "./leadsla.duckdb"}


def parse_time(value: str) -> datetime:
    """ISO 8601 with an offset (``Z`` allowed), returned in UTC."""
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    if t.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no offset: give one, e.g. {value}+05:30 or {value}Z"
        )
    return t.astimezone(UTC)


def parse_every(value: str) -> timedelta:
    """``5m``, ``30s``, ``1h``, ``1d``."""
    m = re.fullmatch(r"(\d+)\s*([smhd])", value.strip())
    if not m or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a cadence like 5m, 1h: {value!r}")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
    return timedelta(**{unit: int(m.group(1))})


def _setting(args: argparse.Namespace, name: str) -> str:
    given = getattr(args, name, None)
    if given:
        return str(given)
    return os.environ.get(f"LEADSLA_{name.upper()}", DEFAULTS[name])


def _add_common(p: argparse.ArgumentParser, *names: str) -> None:
    helps = {
        "rules": "rules directory (env LEADSLA_RULES, default ./sla_rules)",
        "exports": "exports folder or fsspec URL (env LEADSLA_EXPORTS, default ./exports)",
        "db": "DuckDB file (env LEADSLA_DB, default ./leadsla.duckdb)",
    }
    for n in names:
        p.add_argument(f"--{n}", help=helps[n])
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _emit(args: argparse.Namespace, data: dict[str, Any], human: str) -> None:
    print(json.dumps(data, default=str, indent=2) if args.json else human)


def _channels(rules_dir: str) -> Any:
    """Delivery channels from the environment (``LEADSLA_SMTP_URL``, ``LEADSLA_EMAIL_FROM`` and
    the variables notifications.yaml names), or None when none is set: messages then wait in
    the outbox for a run that has one."""
    from leadsla.delivery.deliver import channels_from_env

    ch = channels_from_env(load_rules(rules_dir), os.environ)
    return ch if ch.smtp is not None or ch.endpoints else None


def cmd_check(args: argparse.Namespace) -> int:
    rules_dir = _setting(args, "rules")
    try:
        rules = load_rules(rules_dir)
    except RulesInvalid as exc:
        data = {"ok": False, "errors": [vars(e) for e in exc.errors]}
        human = f"{len(exc.errors)} error(s) in {rules_dir}:\n" + "\n".join(
            f"  {e}" for e in exc.errors
        )
        _emit(args, data, human)
        return 2
    data = {
        "ok": True,
        "rules_version": rules.version,
        "policies": sorted(rules.policies),
        "sources": [s.id for s in rules.sources],
        "teams": sorted(rules.teams),
    }
    human = (
        f"{rules_dir}: OK (version {rules.version}; {len(rules.policies)} policies, "
        f"{len(rules.sources)} sources, {len(rules.teams)} teams, "
        f"{len(rules.members)} members)"
    )
    if rules.notifications is not None:
        ch = _channels(rules_dir)
        configured = sorted(
            (["email"] if ch is not None and ch.smtp is not None else [])
            + (list(ch.endpoints) if ch is not None else [])
        )
        data["channels_configured"] = configured
        human += (
            f"\ndelivery: configured {', '.join(configured)}"
            if configured
            else "\ndelivery: no channel is configured (set LEADSLA_SMTP_URL or the variables "
            "notifications.yaml names): messages wait in the outbox"
        )
    _emit(args, data, human)
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from leadsla.tick import run_tick

    now = args.now or datetime.now(UTC)  # clock-edge
    summary = run_tick(
        rules_dir=Path(_setting(args, "rules")),
        exports=_setting(args, "exports"),
        db=Path(_setting(args, "db")),
        now=now,
        env=dict(os.environ),  # database sources read their URL from the environment
        channels=_channels(_setting(args, "rules")),
    )
    data = {
        "now": now.isoformat(),
        "files": summary.files,
        "events_by_type": summary.events_by_type,
        "new_events": summary.new_events,
    }
    _emit(args, data, summary.markdown)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from leadsla.tick import replay

    if args.to < args.from_:
        print("--to is before --from", file=sys.stderr)
        return 2
    started = time.perf_counter()
    total = int((args.to - args.from_) / args.every) + 1

    def progress(now: datetime, n: int) -> None:
        if not args.json and (n % 100 == 0 or n == total):
            print(f"  tick {n}/{total} at {now.isoformat()}", file=sys.stderr)

    ticks = replay(
        rules_dir=Path(_setting(args, "rules")),
        exports=_setting(args, "exports"),
        db=Path(_setting(args, "db")),
        start=args.from_,
        end=args.to,
        every=args.every,
        progress=progress,
        channels=_channels(_setting(args, "rules")),
    )
    took = time.perf_counter() - started
    _emit(
        args,
        {"ticks": ticks, "seconds": round(took, 2)},
        f"replayed {ticks} ticks in {took:.1f} s into {_setting(args, 'db')}",
    )
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    from leadsla.delivery.channels import Channels
    from leadsla.tick import deliver_phase

    now = args.now or datetime.now(UTC)  # clock-edge
    rules_dir = _setting(args, "rules")
    res = deliver_phase(
        rules_dir=Path(rules_dir),
        db=Path(_setting(args, "db")),
        now=now,
        channels=_channels(rules_dir) or Channels(),
    )
    _emit(args, {"now": now.isoformat(), **res.as_dict()}, res.markdown)
    return 1 if res.dead else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from leadsla.demo import run_demo

    out = Path(args.out)
    result = run_demo(
        out=out,
        rules_dir=Path(_setting(args, "rules")),
        every=args.every,
        progress=None if args.json else lambda msg: print(msg, file=sys.stderr),
        channels=_channels(_setting(args, "rules")),
        report=not args.no_report,
    )
    _emit(args, result.as_dict(), result.human())
    return 0


def cmd_issue_raise(args: argparse.Namespace) -> int:
    """Raise a lead issue: written as a canonical issue export, then one tick at ``now`` so
    the raiser sees at once whether it escalated or what is missing."""
    import duckdb

    from leadsla.issues import content_id, write_issue
    from leadsla.tick import run_tick

    now = args.now or datetime.now(UTC)  # clock-edge
    issue_id = args.issue_id or "ISS-" + content_id(args.lead or "", args.type or "",
                                                    now.isoformat())[:10].upper()  # fmt: skip
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
    exports = _setting(args, "exports")
    path = write_issue(exports, record, now)
    db = Path(_setting(args, "db"))
    run_tick(rules_dir=Path(_setting(args, "rules")), exports=exports, db=db, now=now,
             env=dict(os.environ), channels=_channels(_setting(args, "rules")))  # fmt: skip
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
    _emit(args, {"issue_id": issue_id, "file": path, "events": events}, "\n".join(lines))
    return 2 if rejected and not any(e["event_type"] == "issue_escalated" for e in events) else 0


def cmd_report(args: argparse.Namespace) -> int:
    """Build the marts, render the day's reports to ``--out/<date>/`` and optionally email."""
    from zoneinfo import ZoneInfo

    from leadsla.report.run import org_zone, run_report
    from leadsla.smtp import SmtpConfigError, SmtpSettings
    from leadsla.warehouse import WarehouseError

    now = datetime.now(UTC)  # clock-edge
    rules = load_rules(_setting(args, "rules"))
    day = args.date or (now.astimezone(ZoneInfo(org_zone(rules))).date() - timedelta(days=1))
    smtp = None
    if args.send:
        try:
            smtp = SmtpSettings.from_env(os.environ)
        except SmtpConfigError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        if smtp is None:
            print("--send needs LEADSLA_SMTP_URL (e.g. smtp://localhost:1025)", file=sys.stderr)
            return 2
    try:
        run = run_report(
            db=Path(_setting(args, "db")),
            rules=rules,
            out=Path(args.out),
            report_date=day,
            now=now,
            smtp=smtp,
        )
    except WarehouseError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    data = {
        "date": day.isoformat(),
        "out": str(run.out_dir),
        "files": {k: [str(p) for p in v] for k, v in run.files.items()},
        "published": str(run.published),
        "sent": run.sent,
        "headline": run.headline,
    }
    _emit(args, data, run.human())
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from leadsla.rules.schema import write_schemas

    paths = write_schemas(Path(args.out))
    print("\n".join(str(p) for p in paths))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadsla", description="Response-time SLAs for sales leads."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate sla_rules/ (exit 2 on errors)")
    _add_common(p, "rules")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("tick", help="one pass: load new exports, fire due steps")
    _add_common(p, "rules", "exports", "db")
    p.add_argument("--now", type=parse_time, help="logical time (ISO 8601 with offset)")
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("replay", help="ticks over archived exports in logical time")
    _add_common(p, "rules", "exports", "db")
    p.add_argument("--from", dest="from_", type=parse_time, required=True)
    p.add_argument("--to", type=parse_time, required=True)
    p.add_argument("--every", type=parse_every, default=timedelta(minutes=5))
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("deliver", help="send what the outbox holds and is due (exit 1: dead)")
    _add_common(p, "rules", "db")
    p.add_argument("--now", type=parse_time, help="logical time (ISO 8601 with offset)")
    p.set_defaults(func=cmd_deliver)

    p = sub.add_parser("demo", help="generate a week of CRM exports and replay it")
    _add_common(p, "rules")
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument("--every", type=parse_every, default=timedelta(minutes=30))
    p.add_argument(
        "--no-report",
        action="store_true",
        help="replay only: no review build and report (the event log is the same)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("issue", help="lead issues (seed 002): raise one")
    isub = p.add_subparsers(dest="issue_command", required=True)
    p = isub.add_parser("raise", help="raise a lead issue (exit 2 when it is not escalated)")
    _add_common(p, "rules", "exports", "db")
    p.add_argument("--lead", help="lead id")
    p.add_argument("--type", help="issue type, e.g. pickup, pricing (issues.yaml types)")
    p.add_argument("--summary", help="what blocks the lead")
    p.add_argument("--impact", help="conversion_risk, high_value, complaint_risk, other[: text]")
    p.add_argument("--customer-name")
    p.add_argument("--customer-phone")
    p.add_argument("--device")
    p.add_argument("--city")
    p.add_argument("--raised-by", help="the agent raising it")
    p.add_argument("--issue-id", help="default: derived from lead, type and time")
    p.add_argument("--no-escalation-reason", help="e.g. customer_thinking (not a blocker)")
    p.add_argument("--now", type=parse_time, help="logical time (ISO 8601 with offset)")
    p.set_defaults(func=cmd_issue_raise)
    p = sub.add_parser("report", help="build the marts and write (or email) the daily review")
    _add_common(p, "rules", "db")
    p.add_argument(
        "--date",
        type=date.fromisoformat,
        help="the day to review, in the org's zone (YYYY-MM-DD; default yesterday)",
    )
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument(
        "--send", action="store_true", help="email each report (LEADSLA_SMTP_URL, _EMAIL_FROM)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("schema", help="write the JSON Schemas of the rule files")
    p.add_argument("--out", default="sla_rules/schema")
    p.set_defaults(func=cmd_schema)
    return parser


#: Exit status when the database stayed busy for the whole wait (sysexits' EX_TEMPFAIL: the
#: next scheduled run catches up, every step being judged as of its threshold).
EXIT_BUSY = 75


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RulesInvalid as exc:
        print(f"rules are invalid (run `leadsla check`):\n{exc}", file=sys.stderr)
        return 2
    except StoreBusy as exc:  # another writer or a reader held the database for the whole wait
        print(f"leadsla: {exc}", file=sys.stderr)
        return EXIT_BUSY


if __name__ == "__main__":
    raise SystemExit(main())
