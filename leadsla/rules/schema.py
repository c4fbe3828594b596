"""JSON Schemas of the rule files, referenced from each YAML file so editors validate as ops
people type (``# yaml-language-server: $schema=...``). Regenerate with ``make schema``."""

from __future__ import annotations

import json
from pathlib import Path

from leadsla.rules.base import Strict
from leadsla.rules.calendar_models import CalendarsFile
from leadsla.rules.cases.models import CasesFile
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.rules.intent_models import IntentsFile
from leadsla.rules.issue_models import IssuesFile
from leadsla.rules.org_models import OrgFile
from leadsla.rules.policy_models import PoliciesFile
from leadsla.rules.routing_models import RoutingFile
from leadsla.rules.source_models import Source

SCHEMAS: dict[str, type[Strict]] = {
    "calendars.schema.json": CalendarsFile,
    "org.schema.json": OrgFile,
    "intents.schema.json": IntentsFile,
    "policies.schema.json": PoliciesFile,
    "routing.schema.json": RoutingFile,
    "source.schema.json": Source,
    "issues.schema.json": IssuesFile,
    "notifications.schema.json": NotificationsFile,
    "case.schema.json": CasesFile,  # the rule fixtures, tests/*.yaml
}


def schema_text(model: type[Strict]) -> str:
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, model in SCHEMAS.items():
        path = out / name
        path.write_text(schema_text(model), encoding="utf-8")
        paths.append(path)
    return paths
