"""A source's mapped values against the other rule files: a constant or a value map that makes
an issue's type, SLA class or team must produce one issues.yaml or org.yaml knows, or every
issue of the feed would be rejected (or routed nowhere) at run time instead of at ``check``."""

from __future__ import annotations

from leadsla.rules.column_models import Const, ValueMap
from leadsla.rules.errors import RuleError
from leadsla.rules.issue_models import IssuesFile
from leadsla.rules.org_models import OrgFile
from leadsla.rules.source_models import Source


def _known(issues: IssuesFile, org: OrgFile) -> dict[str, tuple[str, list[str]]]:
    """Canonical issue field -> (what its values are, the values allowed)."""
    return {
        "issue_type": ("an issue type in issues.yaml types", [t.id for t in issues.types]),
        "sla_class": ("an SLA class in issues.yaml sla_classes", list(issues.sla_classes)),
        "team": ("a team in org.yaml teams", [t.id for t in org.teams]),
    }


def check_source_values(
    issues: IssuesFile, org: OrgFile, sources: list[Source], errors: list[RuleError]
) -> None:
    """Every constant, map target and default of an issues source's ``issue_type``,
    ``sla_class`` and ``team`` is a value the rules define."""
    known = _known(issues, org)
    for s in sources:
        if s.entity != "issues":
            continue
        for fld, spec in s.columns.items():
            if fld not in known:
                continue
            what, allowed = known[fld]
            produced: list[tuple[str, str]] = []
            if isinstance(spec, Const):
                produced = [(f"columns.{fld}.const", str(spec.const))]
            elif isinstance(spec, ValueMap):
                produced = [(f"columns.{fld}.map[{k!r}]", v) for k, v in spec.map.items()]
                if spec.default is not None:
                    produced.append((f"columns.{fld}.default", spec.default))
            for key, value in produced:
                if value not in allowed:
                    errors.append(
                        RuleError(
                            f"sources/{s.id}.yaml",
                            key,
                            f"{value!r} is not {what}; use one of {', '.join(sorted(allowed))}",
                        )
                    )
