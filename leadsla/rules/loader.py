"""Load ``sla_rules/`` into a validated :class:`RuleSet`, or report every error at once.

An ops person edits several YAML files; fixing one error per run is slow and hostile. So the
loader parses every file, validates each against its model, then checks the references between
files (a policy's calendar, a member's manager, a routing rule's team) and returns all problems
together, each with the file, the key path and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from leadsla.rules.calendar_models import CalendarsFile
from leadsla.rules.delivery_check import check_notifications
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.rules.errors import RuleError, RulesInvalid
from leadsla.rules.intent_models import IntentsFile
from leadsla.rules.issue_models import IssuesFile
from leadsla.rules.org_models import OrgFile
from leadsla.rules.policy_models import PoliciesFile
from leadsla.rules.references import check_issue_references, check_references
from leadsla.rules.routing_models import RoutingFile
from leadsla.rules.ruleset import RuleSet, digest
from leadsla.rules.source_check import check_source_values
from leadsla.rules.source_models import Source

M = TypeVar("M", bound=BaseModel)


def _loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_yaml(path: Path, rel: str, errors: list[RuleError]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        errors.append(RuleError(rel, "", "file is missing: copy it from the shipped sla_rules/"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        errors.append(RuleError(rel, where, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None
    if not isinstance(data, dict):
        errors.append(RuleError(rel, "", "expected a mapping of keys at the top level"))
        return None
    return data


def _validate(model: type[M], data: Any, rel: str, errors: list[RuleError]) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelled?); see the schema for the allowed keys"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif msg.startswith("Value error, "):
                msg = msg.removeprefix("Value error, ")
            errors.append(RuleError(rel, _loc(err["loc"]), msg))
        return None


def load_rules(root: Path | str) -> RuleSet:
    """Load and validate the rule directory. Raises :class:`RulesInvalid` listing every error."""
    root = Path(root)
    errors: list[RuleError] = []
    if not root.is_dir():
        raise RulesInvalid([RuleError(str(root), "", "rules directory does not exist")])
    raw: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    for name, model in (
        ("calendars.yaml", CalendarsFile),
        ("org.yaml", OrgFile),
        ("intents.yaml", IntentsFile),
        ("policies.yaml", PoliciesFile),
        ("routing.yaml", RoutingFile),
        ("issues.yaml", IssuesFile),
    ):
        data = _read_yaml(root / name, name, errors)
        raw[name] = data
        parsed[name] = _validate(model, data, name, errors) if data is not None else None
    sources: list[Source] = []
    source_files = sorted((root / "sources").glob("*.yaml"))
    if not source_files:
        errors.append(RuleError("sources/", "", "no source files: add sources/<name>.yaml"))
    for path in source_files:
        rel = f"sources/{path.name}"
        data = _read_yaml(path, rel, errors)
        raw[rel] = data
        src = _validate(Source, data, rel, errors) if data is not None else None
        if src is not None:
            sources.append(src)
    notifications: NotificationsFile | None = None
    if (root / "notifications.yaml").exists():
        data = _read_yaml(root / "notifications.yaml", "notifications.yaml", errors)
        raw["notifications.yaml"] = data
        if data is not None:
            notifications = _validate(NotificationsFile, data, "notifications.yaml", errors)
    if errors:
        raise RulesInvalid(errors)
    cals: CalendarsFile = parsed["calendars.yaml"]
    org: OrgFile = parsed["org.yaml"]
    intents: IntentsFile = parsed["intents.yaml"]
    policies: PoliciesFile = parsed["policies.yaml"]
    routing: RoutingFile = parsed["routing.yaml"]
    issues: IssuesFile = parsed["issues.yaml"]
    check_references(cals, org, intents, policies, routing, sources, errors)
    check_issue_references(issues, org, sources, errors)
    check_source_values(issues, org, sources, errors)
    if notifications is not None:
        errors.extend(
            RuleError("notifications.yaml", key, msg)
            for key, msg in check_notifications(notifications, org)
        )
    if errors:
        raise RulesInvalid(errors)
    return RuleSet(
        root=root,
        calendars={c.id: c for c in cals.calendars},
        org=org,
        intents=intents,
        policies={p.id: p for p in policies.policies},
        routing=routing,
        sources=sources,
        issues=issues,
        version=digest(raw)[:12],
        notifications=notifications,
    )


__all__ = ["RuleError", "RuleSet", "RulesInvalid", "load_rules"]
