"""``leadsla check`` and ``leadsla schema``: the rule files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from leadsla.cli.common import add_common, channels, command, emit, settings
from leadsla.rules import RulesInvalid, load_rules


def cmd_check(args: argparse.Namespace) -> int:
    from leadsla.rules.cases.check import check_cases  # the engine: only check needs it

    rules_dir = settings(args).rules
    try:
        rules = load_rules(rules_dir)
        cases, failures = check_cases(rules)
    except RulesInvalid as exc:
        data = {"ok": False, "errors": [vars(e) for e in exc.errors]}
        human = f"{len(exc.errors)} error(s) in {rules_dir}:\n" + "\n".join(
            f"  {e}" for e in exc.errors
        )
        emit(args, data, human)
        return 2
    ok: dict[str, Any] = {
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
        ch = channels(rules_dir)
        configured = sorted(
            (["email"] if ch is not None and ch.smtp is not None else [])
            + (list(ch.endpoints) if ch is not None else [])
        )
        ok["channels_configured"] = configured
        human += (
            f"\ndelivery: configured {', '.join(configured)}"
            if configured
            else "\ndelivery: no channel is configured (set LEADSLA_SMTP_URL or the variables "
            "notifications.yaml names): messages wait in the outbox"
        )
    ok["fixtures"] = {"cases": cases, "failures": [vars(f) for f in failures]}
    if failures:
        ok["ok"] = False
        human = f"{len(failures)} fixture failure(s) in {cases} case(s):\n" + "\n".join(
            str(f) for f in failures
        )
        emit(args, ok, human)
        return 2
    human += f"\nfixtures: {cases} case(s) pass" if cases else "\nfixtures: none (add tests/*.yaml)"
    emit(args, ok, human)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from leadsla.rules.schema import write_schemas

    paths = write_schemas(Path(args.out))
    print("\n".join(str(p) for p in paths))
    return 0


def add_parsers(sub: Any) -> None:
    p = command(
        sub,
        "check",
        "validate sla_rules/ and run its fixtures, tests/*.yaml (exit 2 on errors or failures)",
        "leadsla check --rules sla_rules",
    )
    add_common(p, "rules")
    p.set_defaults(func=cmd_check)

    p = command(
        sub,
        "schema",
        "write the JSON Schemas of the rule files",
        "leadsla schema --out sla_rules/schema",
    )
    p.add_argument(
        "--out",
        default="sla_rules/schema",
        help="folder for the *.schema.json files (default sla_rules/schema)",
    )
    p.set_defaults(func=cmd_schema)
