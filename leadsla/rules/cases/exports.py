"""Canonical export files written from cases: every version of every case's lead and issue in
the export stamped with its ``seen_at``, all cases together (one file per entity and export
time), so the engine reads them as it reads a CRM's exports."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from leadsla.rules.cases.models import Case
from leadsla.rules.records import ISSUE_FIELDS, LEAD_FIELDS


def _iso(t: datetime) -> str:
    return t.isoformat()


def _versions(case: Case) -> list[tuple[str, datetime, dict[str, str]]]:
    """(entity, export time, row) of each version of the case's records."""
    out: list[tuple[str, datetime, dict[str, str]]] = []
    if case.lead is not None:
        row = {**case.lead.fields, "lead_id": str(case.lead_id),
               "created_at": _iso(case.lead.arrival)}  # fmt: skip
        out.append(("leads", case.lead.first_seen, row))
        for u in case.lead.updates:
            row = {**row, **u.fields}
            out.append(("leads", u.seen_at, row))
    if case.issue is not None:
        row = {"lead_id": case.lead_id or "", **case.issue.fields,
               "issue_id": str(case.issue_id), "raised_at": _iso(case.issue.raised_at)}  # fmt: skip
        out.append(("issues", case.issue.first_seen, row))
        for u in case.issue.updates:
            row = {**row, **u.fields}
            out.append(("issues", u.seen_at, row))
    return out


def write_case_exports(cases: list[Case], folder: Path) -> list[datetime]:
    """Write the exports of every case into ``folder``; return the distinct export times in
    order (the moments something can change)."""
    files: dict[tuple[str, datetime], list[dict[str, str]]] = defaultdict(list)
    for case in cases:
        for entity, seen, row in _versions(case):
            files[(entity, seen.astimezone(UTC))].append(row)
    folder.mkdir(parents=True, exist_ok=True)
    header = {"leads": LEAD_FIELDS, "issues": ISSUE_FIELDS}
    for (entity, seen), rows in files.items():
        path = folder / f"{entity}_{seen.strftime('%Y%m%dT%H%M%SZ')}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(header[entity]))
            w.writeheader()
            w.writerows({k: r.get(k, "") for k in header[entity]} for r in rows)
    return sorted({seen for _, seen in files})
