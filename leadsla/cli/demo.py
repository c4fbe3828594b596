"""``leadsla demo``: a week of generated CRM exports, replayed, then the review (leadsla_demo)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from leadsla.cli.common import add_common, channels, command, emit, parse_every, settings
from leadsla.progress import Bar


def cmd_demo(args: argparse.Namespace) -> int:
    from leadsla_demo.run import run_demo

    rules_dir = settings(args).rules
    with Bar(enabled=not args.json) as bar:
        result = run_demo(
            out=Path(args.out),
            rules_dir=Path(rules_dir),
            every=args.every,
            progress=bar.report,
            channels=channels(rules_dir),
            report=not args.no_report,
        )
    emit(args, result.as_dict(), result.human())
    return 0


def add_parsers(sub: Any) -> None:
    p = command(
        sub,
        "demo",
        "generate a week of CRM exports, replay it and write the review",
        "leadsla demo --out demo_out --every 30m",
    )
    add_common(p, "rules")
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
