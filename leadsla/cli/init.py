"""``leadsla init``: write a rules skeleton for a new team (:mod:`leadsla.rules.skeleton`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from leadsla.cli.common import command
from leadsla.rules.skeleton import SkeletonRefused, write_skeleton


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir)
    try:
        written = write_skeleton(
            target,
            timezone=args.timezone,
            country=args.country,
            subdivision=args.subdivision,
            name=args.name,
        )
    except SkeletonRefused as exc:
        print(f"leadsla init: {exc}", file=sys.stderr)
        return 2
    print(
        f"{target}: wrote {len(written)} files (calendar, one team, seed 000's intents and "
        f"policies, canonical sources, notifications).\n"
        f"Next: edit org.yaml (your people), calendars.yaml (your hours), the sources "
        f"(docs/data_teams.md, 'Starting a new team'), then run `leadsla check --rules {target}`."
    )
    return 0


def add_parsers(sub: Any) -> None:
    p = command(
        sub,
        "init",
        "write a rules skeleton for a new team into a new or empty folder",
        "leadsla init sla_rules --timezone Europe/Berlin --country DE --subdivision BY",
    )
    p.add_argument("dir", help="the new rules folder (must not exist or be empty)")
    p.add_argument("--timezone", required=True, help="IANA time zone, e.g. Europe/Berlin")
    p.add_argument(
        "--country", required=True, help="ISO 3166 code for the public holidays, e.g. DE"
    )
    p.add_argument("--subdivision", help="state or province for the holidays, e.g. BY")
    p.add_argument("--name", default="New team", help="the organisation's name in org.yaml")
    p.set_defaults(func=cmd_init)
