"""Read ``sla_rules/tests/*.yaml`` into cases, or refuse them with every error at once (the
file, the key path and what to write instead), the way the rule files are refused."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from leadsla.rules.cases.models import Case, CasesFile
from leadsla.rules.errors import RuleError, RulesInvalid
from leadsla.rules.loader import _read_yaml, _validate

#: The fixtures' folder inside a rules directory.
CASES_DIR = "tests"


def case_files(rules_dir: Path) -> list[Path]:
    """The fixture files of a rules directory, in name order (none: an empty list)."""
    return sorted((Path(rules_dir) / CASES_DIR).glob("*.yaml"))


def load_cases(rules_dir: Path) -> list[tuple[str, Case]]:
    """Every case with the file it came from (``tests/<name>.yaml``). Raises
    :class:`RulesInvalid` listing every malformed file and every name or id used twice."""
    errors: list[RuleError] = []
    cases: list[tuple[str, Case]] = []
    for path in case_files(rules_dir):
        rel = f"{CASES_DIR}/{path.name}"
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                RuleError(rel, "", f"not UTF-8 text (byte {exc.start}): save it as UTF-8")
            )
            continue
        data = _read_yaml(path, rel, errors)
        mine: list[RuleError] = []
        parsed = _validate(CasesFile, data, rel, mine) if data is not None else None
        errors.extend(_with_fix(e) for e in mine)
        if parsed is not None:
            cases.extend((rel, c) for c in parsed.cases)
    seen: dict[str, set[str]] = {"name": set(), "lead id": set(), "issue id": set()}
    for rel, case in cases:
        for kind, value in (
            ("name", case.name),
            ("lead id", case.lead_id),
            ("issue id", case.issue_id),
        ):
            if value is not None and value in seen[kind]:
                errors.append(
                    RuleError(rel, f"cases[{case.name}]", f"{kind} {value!r} is used by an "
                              "earlier case: give each case its own (cases run together)")
                )  # fmt: skip
            if value is not None:
                seen[kind].add(value)
    errors.extend(_order_errors(cases))
    if errors:
        raise RulesInvalid(errors)
    return cases


#: pydantic's words for a bad time, and what to write instead.
_FIXES = {
    "Input should have timezone info": "a time needs an offset: write e.g. "
    "2026-12-01T11:00:00+05:30 or 2026-12-01T05:30:00Z",
    "Input should be a valid datetime": "not a time: write ISO 8601 with an offset, e.g. "
    "2026-12-01T11:00:00+05:30",
    "String should match pattern": "not a valid name or id: use lowercase letters, digits "
    "and _ . - @ + (starting with a letter or digit)",
}


def _with_fix(err: RuleError) -> RuleError:
    for words, fix in _FIXES.items():
        if err.message.startswith(words):
            return RuleError(err.file, err.key, fix)
    return err


def _order_errors(cases: list[tuple[str, Case]]) -> list[RuleError]:
    """Updates come after the first export, each at its own time."""
    out = []
    for rel, c in cases:
        for what, rec in (("lead", c.lead), ("issue", c.issue)):
            if rec is None:
                continue
            times = [rec.first_seen, *(u.seen_at for u in rec.updates)]
            if any(b <= a for a, b in pairwise(times)):
                out.append(
                    RuleError(rel, f"cases[{c.name}].{what}.updates", "each update's seen_at "
                              "must be later than the export before it (first export, then the "
                              "updates in time order)")
                )  # fmt: skip
    return out
