"""``leadsla report`` and ``leadsla patterns``: the review pipelines (leadsla.pipelines.review)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from leadsla.cli.common import NOW_HELP, add_common, command, emit, now_of, parse_time, settings
from leadsla.progress import Bar
from leadsla.rules import load_rules


def cmd_report(args: argparse.Namespace) -> int:
    """Build the marts, render the day's reports to ``--out/<date>/`` and optionally email."""
    from leadsla.pipelines.review import daily_build, run_report
    from leadsla.smtp import SmtpConfigError, SmtpSettings
    from leadsla.warehouse import WarehouseError

    now = datetime.now(UTC)  # clock-edge
    s = settings(args)
    rules = load_rules(s.rules)
    plan = daily_build(rules, Path(s.db), now, args.date)
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
                db=Path(s.db), rules=rules, out=Path(args.out), plan=plan, smtp=smtp,
                progress=bar.report,
            )  # fmt: skip
    except WarehouseError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    data = {
        "date": plan.day.isoformat(),
        "out": str(run.out_dir),
        "files": {k: [str(p) for p in v] for k, v in run.files.items()},
        "published": str(run.published),
        "sent": run.sent,
        "headline": run.headline,
    }
    emit(args, data, run.human())
    return 0


def cmd_patterns(args: argparse.Namespace) -> int:
    """Build the marts as of ``--now`` (or read the published ones with ``--no-build``) and
    write the weekly patterns to ``--out/<yesterday>/weekly.md``."""
    from leadsla.pipelines.review import InProcess, build_marts, weekly_build
    from leadsla.report.patterns import read_patterns, write_patterns
    from leadsla.warehouse import WarehouseError

    now = now_of(args)
    s = settings(args)
    plan = weekly_build(load_rules(s.rules), Path(s.db), now)
    published = plan.paths.published
    try:
        if not args.no_build:
            with Bar(enabled=not args.json) as bar:
                published = build_marts(InProcess(progress=bar.report), Path(s.db), plan)
        elif not published.is_file():
            print(
                f"no published marts at {published}: run without --no-build (or `leadsla "
                "report`) first",
                file=sys.stderr,
            )
            return 2
    except WarehouseError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    patterns = read_patterns(published, plan.day)
    target = write_patterns(patterns, Path(args.out))
    data = {"date": plan.day.isoformat(), "file": str(target), "sections": patterns.sections}
    emit(args, data, f"{patterns.markdown}\n\nwritten to {target}")
    return 0


def add_parsers(sub: Any) -> None:
    p = command(
        sub,
        "report",
        "build the marts and write (or email) the daily review",
        "leadsla report --db demo_out/leadsla.duckdb --date 2026-11-20 --out reports",
    )
    add_common(p, "rules", "db")
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

    p = command(
        sub,
        "patterns",
        "build the marts and write the weekly patterns: repeated issues, rule firing and "
        "its change, SLA realism, owner load",
        "leadsla patterns --db demo_out/leadsla.duckdb --now 2026-11-23T09:00:00+05:30 \\\n"
        "      --out reports\n"
        "  leadsla patterns --db demo_out/leadsla.duckdb --no-build --json",
    )
    add_common(p, "rules", "db")
    p.add_argument("--now", type=parse_time, help=NOW_HELP + "; the marts are built as of it")
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument(
        "--no-build",
        action="store_true",
        help="read the marts last published beside --db (leadsla_marts.duckdb) instead of "
        "building them",
    )
    p.set_defaults(func=cmd_patterns)
