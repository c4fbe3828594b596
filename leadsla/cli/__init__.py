"""``leadsla`` command line: init, check, tick, replay, backtest, deliver, issue raise, report,
patterns, demo, prefect setup, schema; one module per command group.

This is one of the two clock edges (the other is the Prefect flow): ``--now`` defaults to the
wall clock here and nowhere below. Settings resolve flag > environment (``LEADSLA_*``) >
``leadsla.toml`` > default (``leadsla.settings``). Times are ISO 8601 with an offset; naive
times are refused because a wrong zone would silently shift every SLA.
"""

from __future__ import annotations

import argparse
import os
import sys

from leadsla.cli import backtest, demo, init, issue, prefect, report, rules, tick
from leadsla.ingest import ExportsUnavailable
from leadsla.rules import RulesInvalid
from leadsla.settings import SettingsInvalid
from leadsla.smtp import SmtpConfigError
from leadsla.store import StoreBusy

#: Exit status when the database stayed busy for the whole wait (sysexits' EX_TEMPFAIL: the
#: next scheduled run catches up, every step being judged as of its threshold).
EXIT_BUSY = 75


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadsla", description="Response-time SLAs for sales leads."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (init, rules, tick, backtest, demo, issue, report, prefect):
        group.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except RulesInvalid as exc:
        print(f"rules are invalid (run `leadsla check`):\n{exc}", file=sys.stderr)
        return 2
    except (SmtpConfigError, SettingsInvalid) as exc:  # one line: the setting and the fix
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
