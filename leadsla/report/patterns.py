"""The weekly patterns: repeated issue patterns, which rules fire and how that changed, SLA
realism, owner load; read from the published marts and written as one markdown file.

Every figure comes from a mart (``rpt_*``); this module only orders, caps and lays out rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from leadsla.report.run import published_rows

#: One query per section, in the order of the file. Each reads one mart.
QUERIES: dict[str, str] = {
    "issue-patterns": "SELECT * FROM marts.rpt_issue_patterns ORDER BY issues DESC",
    "rule-firing": "SELECT rule_id, event_type, team_id, fired_last_7d, fired_prior_7d "
    "FROM marts.rpt_escalation_rule_firing ORDER BY fired_last_7d DESC",
    "sla-realism": "SELECT * FROM marts.rpt_sla_realism ORDER BY intent, lead_source",
    "owner-load": "SELECT * FROM marts.rpt_owner_load ORDER BY overdue_now DESC, owner_id",
}

#: Rows per section in the markdown (the artifacts and --json carry every row).
SHOWN = 25


@dataclass
class Patterns:
    """The sections' rows (plain values) for the week up to ``day``, and the file written."""

    day: date
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    file: Path | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.sections.items()}

    @property
    def markdown(self) -> str:
        md = [f"# Weekly patterns up to {self.day}", ""]
        for key, rows in self.sections.items():
            md += [f"## {key}", ""]
            if rows:
                md.append("| " + " | ".join(rows[0]) + " |")
                md.append("|" + "---|" * len(rows[0]))
                md += ["| " + " | ".join(str(v) for v in r.values()) + " |" for r in rows[:SHOWN]]
            else:
                md.append("none")
            md.append("")
        return "\n".join(md)


def read_patterns(published: Path, day: date) -> Patterns:
    """Every section's rows from the published marts (opened read-only)."""
    return Patterns(day, {key: published_rows(published, sql, []) for key, sql in QUERIES.items()})


def write_patterns(patterns: Patterns, out: Path) -> Path:
    """The markdown to ``out/<day>/weekly.md``; returns its path."""
    target = out / patterns.day.isoformat() / "weekly.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(patterns.markdown, encoding="utf-8")
    patterns.file = target
    return target
