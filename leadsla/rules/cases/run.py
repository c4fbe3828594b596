"""Run the rule fixtures through the real engine and say where they disagree.

All cases run in one batch: their exports are written to a scratch folder, and one
:class:`~leadsla.pipelines.tick.Ticker` over a scratch database ticks at every export time and
once at the end of the latest case's horizon (steps are judged as of their thresholds, so a tick
at each export time records what ticks every few minutes record). The outcome is read back from
lead state, issue state and the event log: the same tables a live tick writes. There is no
second implementation of the rules here, only the comparison.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from leadsla.pipelines.tick import Ticker
from leadsla.rules.cases.exports import write_case_exports
from leadsla.rules.cases.models import Case, IssueExpect, LeadExpect
from leadsla.rules.ruleset import RuleSet

#: The step events of a lead's ladders.
STEP_EVENTS = ("task_created", "reminder_sent", "escalated", "reassigned")
#: The event each kind of step records, unless it cannot (a reassignment past the hop limit
#: escalates instead): shown in a failure only when a step's event is not its usual one.
USUAL_EVENT = {"task": "task_created", "reminder": "reminder_sent", "escalate": "escalated",
               "reassign": "reassigned"}  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """One thing a case expected that the engine did otherwise."""

    file: str
    case: str
    what: str
    expected: str
    got: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.case}: {self.what}\n"
            f"    expected: {self.expected}\n"
            f"    got:      {self.got}"
        )


#: A step as compared: time, policy, step id, hop, event, owner (None: not checked).
StepRow = tuple[datetime, str, str, int, str | None, str | None]
#: Records one mismatch: what, expected, got.
Fail = Callable[[str, str, str], None]


@dataclass(frozen=True)
class Outcome:
    """What the engine recorded for the cases, keyed by lead id and issue id."""

    leads: dict[str, dict[str, Any]]
    steps: dict[str, list[tuple[str, str, int, str, datetime, str | None]]]
    issues: dict[str, dict[str, Any]]
    levels: dict[str, list[tuple[int, datetime]]]
    quarantine: list[tuple[str, str]]  # (raw row, reason) of every row not loaded whole

    def why_missing(self, record_id: str) -> str:
        """The quarantine's reasons for the rows that carry ``record_id``."""
        reasons = sorted({why for raw, why in self.quarantine if record_id in raw})
        return "not loaded: " + ("; ".join(reasons) or "no row with this id was read")


def run_engine(rules_dir: Path, cases: list[Case], *, every_export: bool = False) -> Outcome:
    """Tick the cases' exports through the engine on a scratch database: once, at the end of
    the latest horizon (a catch-up tick records what ticks every few minutes record), or with
    ``every_export`` also at each export time, as a live schedule would."""
    with tempfile.TemporaryDirectory(prefix="leadsla-fixtures-") as tmp:
        exports = Path(tmp) / "exports"
        times = write_case_exports(cases, exports)
        end = max(c.horizon for c in cases)
        with Ticker(rules_dir=rules_dir, exports=str(exports), db=Path(tmp) / "cases.duckdb") as t:
            end = max(end, times[-1])
            for now in sorted({*(times if every_export else []), end}):
                t.tick(now, summary=False)
            return _read(t.store.con, cases)


def _read(con: Any, cases: list[Case]) -> Outcome:
    lead_ids = [c.lead_id for c in cases if c.lead_id is not None]
    issue_ids = [c.issue_id for c in cases if c.issue_id is not None]
    leads = {
        r[0]: {"intent": r[1], "policy": r[2], "team": r[3], "due": r[4]}
        for r in con.execute(
            "SELECT lead_id, intent, policy_id, team, due_at FROM lead_state "
            "WHERE list_contains($ids, lead_id)",
            {"ids": lead_ids},
        ).fetchall()
    }
    steps: dict[str, list[tuple[str, str, int, str, datetime, str | None]]] = {}
    for lead, policy, step, hop, event, at, owner in con.execute(
        "SELECT lead_id, policy_id, details->>'step', CAST(details->>'hop' AS INTEGER), "
        "event_type, occurred_at, owner FROM sla_events WHERE list_contains($ids, lead_id) "
        "AND list_contains($events, event_type) ORDER BY occurred_at, event_id",
        {"ids": lead_ids, "events": list(STEP_EVENTS)},
    ).fetchall():
        steps.setdefault(lead, []).append((policy, step, hop, event, at, owner))
    issues = {
        r[0]: {"verdict": r[1], "teams": list(r[2] or []), "sla": r[3]}
        for r in con.execute(
            "SELECT issue_id, verdict, teams, sla_class FROM issue_state "
            "WHERE list_contains($ids, issue_id)",
            {"ids": issue_ids},
        ).fetchall()
    }
    levels: dict[str, list[tuple[int, datetime]]] = {}
    for issue, level, at in con.execute(
        "SELECT issue_id, level, occurred_at FROM sla_events "
        "WHERE event_type = 'issue_escalated' AND list_contains($ids, issue_id) "
        "ORDER BY occurred_at, level",
        {"ids": issue_ids},
    ).fetchall():
        levels.setdefault(issue, []).append((level, at))
    quarantine = [(str(r[0] or ""), str(r[1])) for r in con.execute(
        "SELECT raw, reason FROM quarantine").fetchall()]  # fmt: skip
    return Outcome(leads, steps, issues, levels, quarantine)


def _zone(rules: RuleSet, case: Case) -> ZoneInfo:
    """Where a case's times read naturally: its policy's calendar, else the org's default."""
    cal = rules.org.default_calendar
    if case.expect is not None and case.expect.policy in rules.policies:
        cal = rules.policies[case.expect.policy].calendar
    return ZoneInfo(rules.calendars[cal].timezone)


def _t(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return "none"
    whole = at.second == 0 and at.microsecond == 0
    return at.astimezone(zone).isoformat(timespec="minutes" if whole else "seconds")


def compare(rules: RuleSet, cases: list[tuple[str, Case]], got: Outcome) -> list[Failure]:
    """Every difference between what the cases expect and what the engine recorded."""
    out: list[Failure] = []
    for file, case in cases:
        zone = _zone(rules, case)

        def fail(
            what: str, expected: str, actual: str, file: str = file, case: Case = case
        ) -> None:
            out.append(Failure(str(Path(rules.root) / file), case.name, what, expected, actual))

        if case.expect is not None and case.lead_id is not None:
            _compare_lead(rules, case.expect, case.lead_id, case.horizon, got, zone, fail)
        if case.expect_issue is not None and case.issue_id is not None:
            _compare_issue(case.expect_issue, case.issue_id, case.horizon, got, zone, fail)
    return out


def _compare_lead(
    rules: RuleSet,
    exp: LeadExpect,
    lead_id: str,
    horizon: datetime,
    got: Outcome,
    zone: ZoneInfo,
    fail: Fail,
) -> None:
    lead = got.leads.get(lead_id)
    if lead is None:
        fail("lead", f"lead {lead_id} loaded", got.why_missing(lead_id))
        return
    for key in ("intent", "policy", "team"):
        if lead[key] != getattr(exp, key):
            fail(key, str(getattr(exp, key)), str(lead[key]))
    if lead["due"] != exp.due:
        fail("due", _t(exp.due, zone), _t(lead["due"], zone))
    have = sorted(
        ((at, p, st, hop, ev, owner) for p, st, hop, ev, at, owner in got.steps.get(lead_id, [])
         if at <= horizon),
        key=lambda r: r[:4],
    )  # fmt: skip
    want = sorted(
        ((s.at, s.policy or exp.policy, s.step, s.hop, s.event, s.owner) for s in exp.steps),
        key=lambda r: r[:4],
    )
    if len(want) == len(have) and all(
        w[:4] == h[:4] and w[4] in (None, h[4]) and w[5] in (None, h[5])
        for w, h in zip(want, have, strict=True)
    ):
        return
    owners = any(w[5] is not None for w in want)

    def line(step: StepRow) -> str:
        at, policy, step_id, hop, event, owner = step
        kinds = (
            {s.id: s.kind for s in rules.policies[policy].steps} if policy in rules.policies else {}
        )
        unusual = event is not None and event != USUAL_EVENT.get(kinds.get(step_id, ""))
        return (
            step_id
            + (f" (hop {hop})" if hop else "")
            + (f" [{event}]" if unusual else "")
            + ("" if policy == exp.policy else f" of {policy}")
            + (f" owner {owner}" if owners and owner else "")
            + f" {_t(at, zone)}"
        )  # fmt: skip

    fail(
        f"steps up to {_t(horizon, zone)}",
        "; ".join(map(line, want)) or "none",
        "; ".join(map(line, have)) or "none",
    )


def _compare_issue(
    exp: IssueExpect, issue_id: str, horizon: datetime, got: Outcome, zone: ZoneInfo, fail: Fail
) -> None:
    issue = got.issues.get(issue_id)
    if issue is None:
        fail("issue", f"issue {issue_id} loaded", got.why_missing(issue_id))
        return
    if issue["verdict"] != exp.verdict:
        fail("verdict", exp.verdict, str(issue["verdict"]))
    if exp.teams and issue["teams"] != exp.teams:
        fail("teams", ", ".join(exp.teams), ", ".join(issue["teams"]) or "none")
    if exp.sla is not None and issue["sla"] != exp.sla:
        fail("sla", exp.sla, str(issue["sla"]))
    have = sorted((lv, at) for lv, at in got.levels.get(issue_id, []) if at <= horizon)
    want = sorted((lv.level, lv.at) for lv in exp.levels)
    if want != have:
        fail(
            f"levels up to {_t(horizon, zone)}",
            "; ".join(f"L{lv} {_t(at, zone)}" for lv, at in want) or "none",
            "; ".join(f"L{lv} {_t(at, zone)}" for lv, at in have) or "none",
        )
