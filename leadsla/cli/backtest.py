"""``leadsla backtest``: a candidate rule set against the live one (leadsla.pipelines.backtest)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from leadsla.cli.common import add_common, command, emit, parse_every, parse_time, settings
from leadsla.progress import Bar
from leadsla.rules import RulesInvalid, load_rules


def passes_check(rules_dir: str) -> bool:
    """Validate the candidate as ``leadsla check`` does; when it is invalid, check's own
    message goes to stderr. Its rule fixtures are run by the backtest and listed in its output
    (a deliberate change moves some), not refused here."""
    try:
        load_rules(Path(rules_dir))
    except RulesInvalid as exc:
        said = "\n".join(f"  {e}" for e in exc.errors)
        print(
            f"the candidate does not pass `leadsla check`: {len(exc.errors)} error(s) in "
            f"{rules_dir}:\n{said}",
            file=sys.stderr,
        )
        return False
    return True


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
         f"  SLA met %: {data['sla_met_pct']['baseline']} -> {data['sla_met_pct']['candidate']}",
         *([f"  rule fixtures the candidate moves: {len(data['fixture_failures'])} (update "
            "them with the change; listed in backtest.html)"] if data["fixture_failures"] else [])]
    )  # fmt: skip
    emit(
        args,
        {
            k: data[k]
            for k in (
                "baseline",
                "candidate",
                "changed_leads",
                "metrics",
                "sla_met_pct",
                "fixture_failures",
            )
        }
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
