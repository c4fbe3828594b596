"""``leadsla check``'s fixture step: load the cases of a rule set and run them."""

from __future__ import annotations

from pathlib import Path

from leadsla.rules.cases.load import load_cases
from leadsla.rules.cases.run import Failure, compare, run_engine
from leadsla.rules.ruleset import RuleSet


def check_cases(rules: RuleSet) -> tuple[int, list[Failure]]:
    """Run every fixture of ``rules`` (their ``tests/`` folder) through the engine: the number
    of cases and every failure. Raises ``RulesInvalid`` for a malformed fixture file."""
    cases = load_cases(Path(rules.root))
    if not cases:
        return 0, []
    outcome = run_engine(Path(rules.root), [c for _, c in cases])
    return len(cases), compare(rules, cases, outcome)
