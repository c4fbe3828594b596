"""``leadsla tick``, ``replay`` and ``deliver``: the tick pipeline (leadsla.pipelines.tick)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from leadsla.cli.common import (
    NOW_HELP,
    add_common,
    channels,
    command,
    emit,
    now_of,
    parse_every,
    parse_time,
    settings,
)
from leadsla.progress import Bar


def cmd_tick(args: argparse.Namespace) -> int:
    from leadsla.pipelines.tick import run_tick

    now = now_of(args)
    s = settings(args)
    summary = run_tick(
        rules_dir=Path(s.rules),
        exports=s.exports,
        db=Path(s.db),
        now=now,
        env=dict(os.environ),  # database sources read their URL from the environment
        channels=channels(s.rules),
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
    human = summary.markdown
    if args.shadow_rules:  # after the live tick: a shadow never holds up the live decisions
        from leadsla.pipelines.shadow import shadow_tick

        data["shadow_events"] = shadow_tick(
            shadow_rules=Path(args.shadow_rules), exports=s.exports, db=Path(s.db), now=now
        )
        human += f"\nshadow ({args.shadow_rules}): {data['shadow_events']} new shadow event(s)"
    emit(args, data, human)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from leadsla.pipelines.tick import replay

    if args.to < args.from_:
        print("--to is before --from", file=sys.stderr)
        return 2
    s = settings(args)
    started = time.perf_counter()
    every = args.every
    total = None if every is None else int((args.to - args.from_) / every) + 1
    label = "ticks at export times" if every is None else f"ticks every {every}"
    with Bar(enabled=not args.json) as bar:
        ticks = replay(
            rules_dir=Path(s.rules),
            exports=s.exports,
            db=Path(s.db),
            start=args.from_,
            end=args.to,
            every=every,
            progress=lambda now, n: bar.report(label, n, total),
            channels=channels(s.rules),
        )
    took = time.perf_counter() - started
    emit(
        args,
        {"ticks": ticks, "seconds": round(took, 2)},
        f"replayed {ticks} ticks in {took:.1f} s into {s.db}",
    )
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    from leadsla.delivery.senders import Senders
    from leadsla.pipelines.tick import deliver_phase

    now = now_of(args)
    s = settings(args)
    res = deliver_phase(
        rules_dir=Path(s.rules),
        db=Path(s.db),
        now=now,
        channels=channels(s.rules) or Senders(),
    )
    emit(args, {"now": now.isoformat(), **res.as_dict()}, res.markdown)
    return 1 if res.dead else 0


def add_parsers(sub: Any) -> None:
    p = command(
        sub,
        "tick",
        "one pass: load new exports, fire due steps, deliver",
        "leadsla tick --exports exports --db leadsla.duckdb --now 2026-11-23T10:40:00+05:30",
    )
    add_common(p, "rules", "exports", "db")
    p.add_argument("--now", type=parse_time, help=NOW_HELP)
    p.add_argument(
        "--shadow-rules",
        metavar="DIR",
        help="candidate rules evaluated beside the live ones into shadow_events (nothing sent)",
    )
    p.set_defaults(func=cmd_tick)

    p = command(
        sub,
        "replay",
        "ticks over archived exports in logical time, in one process",
        "leadsla replay --exports demo_out/exports --db /tmp/replay.duckdb \\\n"
        "      --from 2026-11-16T00:00:00+05:30 --to 2026-11-23T00:00:00+05:30",
    )
    add_common(p, "rules", "exports", "db")
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
        help="simulate a schedule: a tick every 5m, 2h or 1d (default: tick only where something "
        "can change: at --from, at each export time and at --to; same events either way)",
    )
    p.set_defaults(func=cmd_replay)

    p = command(
        sub,
        "deliver",
        "send what the outbox holds and is due (exit 1: dead messages)",
        "LEADSLA_SMTP_URL=smtp://localhost:1025 leadsla deliver --db leadsla.duckdb",
    )
    add_common(p, "rules", "db")
    p.add_argument("--now", type=parse_time, help=NOW_HELP)
    p.set_defaults(func=cmd_deliver)
