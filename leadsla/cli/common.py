"""What every command shares: time and cadence parsing, the common options, settings, output.

Settings resolve through :mod:`leadsla.settings` (flag, then ``LEADSLA_*``, then
``leadsla.toml``, then default), the same object the flows use.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsla.rules import load_rules
from leadsla.settings import Settings, load_settings

NOW_HELP = "logical time, ISO 8601 with an offset (default: now)"

_HELPS = {
    "rules": "rules directory (env LEADSLA_RULES, leadsla.toml rules; default sla_rules)",
    "exports": "exports folder or fsspec URL (env LEADSLA_EXPORTS, leadsla.toml exports; "
    "default exports)",
    "db": "DuckDB file (env LEADSLA_DB, leadsla.toml db; default leadsla.duckdb)",
}


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


def settings(args: argparse.Namespace) -> Settings:
    """The settings of this invocation: its flags above the environment, file and defaults."""
    return load_settings(
        rules=getattr(args, "rules", None),
        exports=getattr(args, "exports", None),
        db=getattr(args, "db", None),
    )


def now_of(args: argparse.Namespace) -> datetime:
    """``--now``, else the wall clock: the CLI is a clock edge."""
    given: datetime | None = getattr(args, "now", None)
    return given or datetime.now(UTC)  # clock-edge


def add_common(p: argparse.ArgumentParser, *names: str) -> None:
    for n in names:
        p.add_argument(f"--{n}", help=_HELPS[n])
    p.add_argument("--json", action="store_true", help="machine-readable output")


def emit(args: argparse.Namespace, data: dict[str, Any], human: str) -> None:
    print(json.dumps(data, default=str, indent=2) if args.json else human)


def channels(rules_dir: str) -> Any:
    """Delivery channels from the environment (``LEADSLA_SMTP_URL``, ``LEADSLA_EMAIL_FROM`` and
    the variables notifications.yaml names), or None when none is set: messages then wait in
    the outbox for a run that has one."""
    from leadsla.delivery.senders import senders_from_env

    ch = senders_from_env(load_rules(rules_dir), os.environ)
    return ch if ch.smtp is not None or ch.endpoints else None


def command(sub: Any, name: str, help_: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with an example."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
