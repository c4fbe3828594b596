"""``leadsla prefect setup``: what prefect.yaml's deployments need on the server."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from leadsla.cli.common import add_common, command, emit
from leadsla.settings import load_settings


def cmd_prefect_setup(args: argparse.Namespace) -> int:
    """Create or update what the deployments need on the Prefect server (flows/ops_setup.py)."""
    import getpass

    from flows.ops_setup import setup

    def ask(prompt: str, secret: bool) -> str:
        return getpass.getpass(prompt + ": ") if secret else input(prompt + ": ")

    s = load_settings(rules=args.rules, home=args.project)
    project = Path(s.home)
    if not (project / "prefect.yaml").is_file():
        print(
            f"no prefect.yaml in {project}: run this from the checkout, or pass --project",
            file=sys.stderr,
        )
        return 2
    try:
        steps = setup(
            project=project,
            rules_dir=Path(s.rules),
            env=os.environ,
            ask=ask if sys.stdin.isatty() and not args.json else None,
            late_after=args.late_after,
        )
    except ConnectionError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    emit(args, {"steps": [vars(s) for s in steps]}, "\n".join(s.line() for s in steps))
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "prefect",
        help="Prefect deployment helpers: setup",
        description="Prefect deployment helpers",
    )
    psub = p.add_subparsers(dest="prefect_command", required=True)
    p = command(
        psub,
        "setup",
        "create or update, idempotently, what prefect.yaml's deployments need on the server "
        "at PREFECT_API_URL: work pool, email block (LEADSLA_SMTP_URL), Secret blocks, "
        "pipeline-health automations (LEADSLA_OPS_WEBHOOK_URL)",
        "LEADSLA_SMTP_URL=smtp+starttls://u:p@mail.example.com:587 \\\n"
        "      LEADSLA_OPS_WEBHOOK_URL=https://hooks.slack.com/services/... leadsla prefect setup",
    )
    add_common(p, "rules")
    p.add_argument(
        "--project",
        help="the checkout holding prefect.yaml (env LEADSLA_HOME, leadsla.toml home; default "
        "the current folder)",
    )
    p.add_argument(
        "--late-after",
        type=int,
        default=3,
        help="alert when no tick completed for this many schedule intervals (default 3)",
    )
    p.set_defaults(func=cmd_prefect_setup)
