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

from leadsla.ingest import ExportsUnavailable
from leadsla.progress import Bar
from leadsla.rules import RulesInvalid, load_rules
from leadsla.smtp import SmtpConfigError
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
    from leadsla.delivery.senders import senders_from_env

    ch = senders_from_env(load_rules(rules_dir), os.environ)
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
        "files_left_for_later": [
            {"name": f.name, "export_at": f.export_at.isoformat(), "dated_by": f.export_at_from}
            for f in summary.later
        ],
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
    with Bar(enabled=not args.json) as bar:
        ticks = replay(
            rules_dir=Path(_setting(args, "rules")),
            exports=_setting(args, "exports"),
            db=Path(_setting(args, "db")),
            start=args.from_,
            end=args.to,
            every=args.every,
            progress=lambda now, n: bar.report(f"ticks every {args.every}", n, total),
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
    from leadsla.delivery.senders import Senders
    from leadsla.tick import deliver_phase

    now = args.now or datetime.now(UTC)  # clock-edge
    rules_dir = _setting(args, "rules")
    res = deliver_phase(
        rules_dir=Path(rules_dir),
        db=Path(_setting(args, "db")),
        now=now,
        channels=_channels(rules_dir) or Senders(),
    )
    _emit(args, {"now": now.isoformat(), **res.as_dict()}, res.markdown)
    return 1 if res.dead else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from leadsla.demo import run_demo

    out = Path(args.out)
    with Bar(enabled=not args.json) as bar:
        result = run_demo(
            out=out,
            rules_dir=Path(_setting(args, "rules")),
            every=args.every,
            progress=bar.report,
            channels=_channels(_setting(args, "rules")),
            report=not args.no_report,
        )
    _emit(args, result.as_dict(), result.human())
    return 0


def cmd_issue_raise(args: argparse.Namespace) -> int:
    """Raise a lead issue: written as a canonical issue export, then one tick at ``now`` so
    the raiser sees at once whether it escalated or what is missing."""
    import duckdb

    from leadsla.events import content_id
    from leadsla.issues.intake import write_issue
    from leadsla.tick import run_tick

    now = args.now or datetime.now(UTC)  # clock-edge
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
    exports = _setting(args, "exports")
    path = write_issue(exports, record, now)
    db = Path(_setting(args, "db"))
    run_tick(
        rules_dir=Path(_setting(args, "rules")),
        exports=exports,
        db=db,
        now=now,
        env=dict(os.environ),
        channels=_channels(_setting(args, "rules")),
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
        with Bar(enabled=not args.json) as bar:
            run = run_report(
                db=Path(_setting(args, "db")),
                rules=rules,
                out=Path(args.out),
                report_date=day,
                now=now,
                smtp=smtp,
                progress=bar.report,
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


def cmd_prefect_setup(args: argparse.Namespace) -> int:
    """Create or update what the deployments need on the Prefect server (flows/ops_setup.py)."""
    import getpass

    from flows.ops_setup import setup

    def ask(prompt: str, secret: bool) -> str:
        return getpass.getpass(prompt + ": ") if secret else input(prompt + ": ")

    project = Path(args.project or os.environ.get("LEADSLA_HOME") or ".")
    if not (project / "prefect.yaml").is_file():
        print(
            f"no prefect.yaml in {project}: run this from the checkout, or pass --project",
            file=sys.stderr,
        )
        return 2
    try:
        steps = setup(
            project=project,
            rules_dir=Path(_setting(args, "rules")),
            env=os.environ,
            ask=ask if sys.stdin.isatty() and not args.json else None,
            late_after=args.late_after,
        )
    except ConnectionError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    _emit(args, {"steps": [vars(s) for s in steps]}, "\n".join(s.line() for s in steps))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from leadsla.rules.schema import write_schemas

    paths = write_schemas(Path(args.out))
    print("\n".join(str(p) for p in paths))
    return 0


NOW_HELP = "logical time, ISO 8601 with an offset (default: now)"

#: One example per command, shown at the end of its --help.
EXAMPLES = {
    "check": "leadsla check --rules sla_rules",
    "tick": "leadsla tick --exports exports --db leadsla.duckdb --now 2026-11-23T10:40:00+05:30",
    "replay": "leadsla replay --exports demo_out/exports --db /tmp/replay.duckdb \\\n"
    "      --from 2026-11-16T00:00:00+05:30 --to 2026-11-23T00:00:00+05:30 --every 5m",
    "deliver": "LEADSLA_SMTP_URL=smtp://localhost:1025 leadsla deliver --db leadsla.duckdb",
    "demo": "leadsla demo --out demo_out --every 30m",
    "raise": "leadsla issue raise --lead L1 --type coupon --summary 'code SAVE10 rejected' \\\n"
    "      --impact conversion_risk --raised-by rahul",
    "report": "leadsla report --db demo_out/leadsla.duckdb --date 2026-11-20 --out reports",
    "setup": "LEADSLA_SMTP_URL=smtp+starttls://u:p@mail.example.com:587 \\\n"
    "      LEADSLA_OPS_WEBHOOK_URL=https://hooks.slack.com/services/... leadsla prefect setup",
    "schema": "leadsla schema --out sla_rules/schema",
}


def _sub(sub: Any, name: str, help_: str, key: str | None = None) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=f"example:\n  {EXAMPLES[key or name]}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadsla", description="Response-time SLAs for sales leads."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = _sub(sub, "check", "validate sla_rules/ (exit 2 on errors)")
    _add_common(p, "rules")
    p.set_defaults(func=cmd_check)

    p = _sub(sub, "tick", "one pass: load new exports, fire due steps, deliver")
    _add_common(p, "rules", "exports", "db")
    p.add_argument("--now", type=parse_time, help=NOW_HELP)
    p.set_defaults(func=cmd_tick)

    p = _sub(sub, "replay", "ticks over archived exports in logical time, in one process")
    _add_common(p, "rules", "exports", "db")
    p.add_argument(
        "--from",
        dest="from_",
        metavar="TS",
        type=parse_time,
        required=True,
        help="first tick's time, ISO 8601 with an offset",
    )
    p.add_argument(
        "--to",
        metavar="TS",
        type=parse_time,
        required=True,
        help="last tick at or before this time, ISO 8601 with an offset",
    )
    p.add_argument(
        "--every",
        type=parse_every,
        default=timedelta(minutes=5),
        help="cadence of the ticks, like 5m, 2h or 1d (default 5m)",
    )
    p.set_defaults(func=cmd_replay)

    p = _sub(sub, "deliver", "send what the outbox holds and is due (exit 1: dead messages)")
    _add_common(p, "rules", "db")
    p.add_argument("--now", type=parse_time, help=NOW_HELP)
    p.set_defaults(func=cmd_deliver)

    p = _sub(sub, "demo", "generate a week of CRM exports, replay it and write the review")
    _add_common(p, "rules")
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument(
        "--every",
        type=parse_every,
        default=timedelta(minutes=30),
        help="cadence of the replayed ticks, like 30m or 2h (default 30m)",
    )
    p.add_argument(
        "--no-report",
        action="store_true",
        help="replay only: no review build and report (the event log is the same)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "issue", help="lead issues (seed 002): raise one", description="lead issues (seed 002)"
    )
    isub = p.add_subparsers(dest="issue_command", required=True)
    p = _sub(isub, "raise", "raise a lead issue (exit 2 when it is not escalated)")
    _add_common(p, "rules", "exports", "db")
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

    p = _sub(sub, "report", "build the marts and write (or email) the daily review")
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

    p = sub.add_parser(
        "prefect",
        help="Prefect deployment helpers: setup",
        description="Prefect deployment helpers",
    )
    psub = p.add_subparsers(dest="prefect_command", required=True)
    p = _sub(
        psub,
        "setup",
        "create or update, idempotently, what prefect.yaml's deployments need on the server "
        "at PREFECT_API_URL: work pool, email block (LEADSLA_SMTP_URL), Secret blocks, "
        "pipeline-health automations (LEADSLA_OPS_WEBHOOK_URL)",
    )
    _add_common(p, "rules")
    p.add_argument(
        "--project",
        help="the checkout holding prefect.yaml (default LEADSLA_HOME, else the current folder)",
    )
    p.add_argument(
        "--late-after",
        type=int,
        default=3,
        help="alert when no tick completed for this many schedule intervals (default 3)",
    )
    p.set_defaults(func=cmd_prefect_setup)

    p = _sub(sub, "schema", "write the JSON Schemas of the rule files")
    p.add_argument(
        "--out",
        default="sla_rules/schema",
        help="folder for the *.schema.json files (default sla_rules/schema)",
    )
    p.set_defaults(func=cmd_schema)
    return parser


#: Exit status when the database stayed busy for the whole wait (sysexits' EX_TEMPFAIL: the
#: next scheduled run catches up, every step being judged as of its threshold).
EXIT_BUSY = 75


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except RulesInvalid as exc:
        print(f"rules are invalid (run `leadsla check`):\n{exc}", file=sys.stderr)
        return 2
    except SmtpConfigError as exc:  # one line naming the variable and the fix, no traceback
        print(f"leadsla: {exc}", file=sys.stderr)
        return 2
    except ExportsUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`leadsla tick | head`): end quietly, as Unix tools do; stdout
        # is pointed at devnull so the interpreter's own flush at exit cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except StoreBusy as exc:  # another writer or a reader held the database for the whole wait
        print(f"leadsla: {exc}", file=sys.stderr)
        return EXIT_BUSY


if __name__ == "__main__":
    raise SystemExit(main())
