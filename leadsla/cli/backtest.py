"""``leadsla backtest``: a candidate rule set against the live one (leadsla.pipelines.backtest)."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path
from typing import Any

from leadsla.cli.common import add_common, command, emit, parse_every, parse_time, settings
from leadsla.cli.rules import cmd_check
from leadsla.progress import Bar


def passes_check(rules_dir: str) -> bool:
    """Run ``leadsla check`` on ``rules_dir``; when it fails, its own message goes to stderr."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        code = cmd_check(argparse.Namespace(rules=rules_dir, json=False))
    if code != 0:
        print(f"the candidate does not pass `leadsla check`:\n{said.getvalue()}", file=sys.stderr,
              end="")  # fmt: skip
    return code == 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from leadsla.pipelines.backtest import EVERY, backtest

    if args.to < args.from_:
        print("--to is before --from", file=sys.stderr)
        return 2
    if not passes_check(args.candidate):  # refused before anything runs
        return 2
    s = settings(args)  # --rules, else the live rules: the baseline
    baseline = args.baseline or s.rules
    every = args.every or EVERY
    total = int((args.to - args.from_) / every) + 1
    with Bar(enabled=not args.json) as bar:
        data = backtest(
            candidate=Path(args.candidate),
            baseline=Path(baseline),
            exports=s.exports,
            start=args.from_,
            end=args.to,
            out=Path(args.out),
            every=every,
            progress=lambda side, now, n: bar.report(f"{side} replay", n, total),
        )
    b, c = data["metrics"]["baseline"], data["metrics"]["candidate"]
    human = "\n".join(
        [f"backtest of {args.candidate} against {baseline}: {args.out}/backtest.html",
         f"  changed leads: {data['changed_leads']}",
         *(f"  {m}: {b[m]} -> {c[m]}" for m in b),
         f"  SLA met %: {data['sla_met_pct']['baseline']} -> {data['sla_met_pct']['candidate']}"]
    )  # fmt: skip
    emit(
        args,
        {k: data[k] for k in ("baseline", "candidate", "changed_leads", "metrics", "sla_met_pct")}
        | {"out": str(args.out)},
        human,
    )
    return 0


def add_parsers(sub: Any) -> None:
    p = command(
        sub,
        "backtest",
        "replay a candidate rule set beside the live one and write what differs",
        "leadsla backtest --rules sla_rules_candidate --exports demo_out/exports \\\n"
        "      --from 2026-11-16T00:00:00+05:30 --to 2026-11-23T00:00:00+05:30 --out bt",
    )
    p.add_argument("--rules", dest="candidate", required=True, metavar="CANDIDATE",
                   help="the candidate rules directory")  # fmt: skip
    p.add_argument("--baseline", metavar="BASELINE",
                   help="the rules to compare with (default: the live rules, LEADSLA_RULES, "
                   "leadsla.toml rules, else sla_rules)")  # fmt: skip
    add_common(p, "exports")
    p.add_argument("--from", dest="from_", metavar="TS", type=parse_time, required=True,
                   help="start of the replayed period, ISO 8601 with an offset")  # fmt: skip
    p.add_argument("--to", metavar="TS", type=parse_time, required=True,
                   help="end of the replayed period, ISO 8601 with an offset")  # fmt: skip
    p.add_argument("--out", required=True, help="folder for backtest.html, .json and CSVs")
    p.add_argument(
        "--every",
        type=parse_every,
        default=None,
        help="cadence of the replayed ticks (default 5m, the live schedule's)",
    )
    p.set_defaults(func=cmd_backtest)
