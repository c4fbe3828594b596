"""The presets (``presets/``): the ServiceNow rules folder routes incidents to the team the feed
names (a stand-in acts for teams org.yaml does not list), times them by the feed's SLA class and
climbs L1 -> L2 -> L3 without a lead; its source reads a ServiceNow-shaped log as published.

The last two tests read the preset's own source, which uses the mapping keys null_tokens,
const, join, map and the issue status_map (issue 17, item 1): they pass once that mapping
language is in."""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadsla.pipelines.tick import Ticker
from leadsla.rules import load_rules

from .conftest import REPO

PRESET = REPO / "presets" / "servicenow"
T0 = datetime(2016, 3, 1, 9, 0, tzinfo=UTC)
CANONICAL = """
id: incidents
crm: canonical
entity: issues
glob: "issues*"
timezone: UTC
mandatory_fields: []
"""


def _escalations(t: Ticker) -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    rows = t.store.con.execute(
        "SELECT issue_id, level, target, details FROM sla_events "
        "WHERE event_type = 'issue_escalated' ORDER BY issue_id, level"
    ).fetchall()
    out: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for issue, level, target, details in rows:
        out.setdefault(issue, []).append((level, target, json.loads(details)))
    return out


def _ticks(t: Ticker, start: datetime, hours: int) -> None:
    for h in range(hours + 1):
        t.tick(start + timedelta(hours=h), summary=False)


def test_feed_team_and_sla_class_route_and_incidents_climb_without_a_lead(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(PRESET, rules)
    for f in (rules / "sources").iterdir():
        f.unlink()
    (rules / "sources" / "incidents.yaml").write_text(CANONICAL, encoding="utf-8")
    exports = tmp_path / "exports"
    exports.mkdir()
    raised = T0.strftime("%Y-%m-%dT%H:%M:%SZ")
    answered = (T0 + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [
        # a group org.yaml does not list, critical (60 minutes), never answered
        {"issue_id": "INC1", "team": "Group 56", "sla_class": "critical"},
        # a listed team, high (240 minutes), answered after 30 minutes
        {"issue_id": "INC2", "team": "service_desk", "sla_class": "high",
         "responded_at": answered},
        # a class issues.yaml does not have: the type's (moderate, 1440 minutes)
        {"issue_id": "INC3", "team": "Group 7", "sla_class": "bogus"},
    ]  # fmt: skip
    header = ["issue_id", "raised_at", "issue_type", "team", "sla_class", "responded_at"]
    with (exports / f"issues_{T0 + timedelta(hours=1):%Y%m%dT%H%M%SZ}.csv").open(
        "w", newline="", encoding="utf-8"
    ) as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow({"raised_at": raised, "issue_type": "incident", **r})
    with Ticker(rules_dir=rules, exports=str(exports), db=tmp_path / "db.duckdb") as t:
        _ticks(t, T0 + timedelta(hours=1), 30)
        esc = _escalations(t)
        state = dict(t.store.con.execute("SELECT issue_id, sla_class FROM issue_state").fetchall())
    assert state == {"INC1": "critical", "INC2": "high", "INC3": "moderate"}
    inc1 = esc["INC1"]
    assert [(lv, target) for lv, target, _ in inc1] == [
        (1, "Group 56"), (2, "desk_lead"), (3, "management")
    ]  # fmt: skip
    assert inc1[0][2]["teams"] == ["Group 56"]
    assert inc1[0][2]["recipients"][0]["channel"] == "#service-desk"
    thresholds = [datetime.fromisoformat(d["threshold_at"]) for _, _, d in inc1]
    assert thresholds == [T0, T0 + timedelta(minutes=60), T0 + timedelta(minutes=300)]
    assert esc.get("INC2", []) == []  # answered before the export showed it
    inc3 = esc["INC3"]
    assert [lv for lv, _, _ in inc3] == [1, 2, 3]
    assert datetime.fromisoformat(inc3[1][2]["threshold_at"]) == T0 + timedelta(minutes=1440)


def test_without_climb_without_lead_an_incident_stays_at_level_1(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(PRESET, rules)
    for f in (rules / "sources").iterdir():
        f.unlink()
    (rules / "sources" / "incidents.yaml").write_text(CANONICAL, encoding="utf-8")
    issues = rules / "issues.yaml"
    issues.write_text(issues.read_text().replace("climb_without_lead: true", ""))
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / f"issues_{T0:%Y%m%dT%H%M%SZ}.csv").write_text(
        f"issue_id,raised_at,issue_type,team,sla_class\nINC1,{T0:%Y-%m-%dT%H:%M:%SZ},incident,"
        "Group 56,critical\n",
        encoding="utf-8",
    )
    with Ticker(rules_dir=rules, exports=str(exports), db=tmp_path / "db.duckdb") as t:
        _ticks(t, T0, 8)
        esc = _escalations(t)
    assert [lv for lv, _, _ in esc["INC1"]] == [1]


# ---- the preset's own source: needs the mapping language (null_tokens, const, map, ...) -----

#: A ServiceNow-shaped log: the published header, "?" for empty, day-first dates without a zone.
SN_HEADER = (
    "number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,"
    "caller_id,opened_by,opened_at,sys_created_by,sys_created_at,sys_updated_by,sys_updated_at,"
    "contact_type,location,category,subcategory,u_symptom,cmdb_ci,impact,urgency,priority,"
    "assignment_group,assigned_to,knowledge,u_priority_confirmation,notify,problem_id,rfc,"
    "vendor,caused_by,closed_code,resolved_by,resolved_at,closed_at"
)


CRIT = "1 - Critical"


def _sn_row(number: str, state: str, opened: str, updated: str, priority: str,
            group: str, resolved: str = "?") -> str:  # fmt: skip
    return (
        f"{number},{state},true,0,0,0,true,Caller 1,Opened by  8,{opened},Created by 6,{opened},"
        f"Updated by 1,{updated},Phone,Location 143,Category 55,Subcategory 170,Symptom 72,?,"
        f"2 - Medium,2 - Medium,{priority},{group},?,true,false,Do Not Notify,?,?,?,?,code 5,"
        f"?,{resolved},?"
    )


def test_the_servicenow_preset_checks_clean() -> None:
    rules = load_rules(PRESET)
    (source,) = rules.sources
    assert source.format == "history"
    assert source.glob is not None
    assert rules.issues.climb_without_lead


def test_a_servicenow_shaped_log_replays_through_the_preset_alone(tmp_path: Path) -> None:
    exports = tmp_path / "sn"
    exports.mkdir()
    lines = [
        SN_HEADER,
        # answered 40 minutes after opening (critical: within its 60 minutes)
        _sn_row("INC0000045", "New", "1/3/2016 09:00", "1/3/2016 09:00", CRIT, "Group 56"),
        _sn_row("INC0000045", "Active", "1/3/2016 09:00", "1/3/2016 09:40", CRIT, "Group 56"),
        # never answered: climbs to level 3 without a lead
        _sn_row("INC0000047", "New", "1/3/2016 09:10", "1/3/2016 09:10", CRIT, "Group 70"),
        # resolved later than the row's own change: the field is rejected, the row loads
        _sn_row("INC0000050", "New", "1/3/2016 09:20", "1/3/2016 09:20", "4 - Low", "Group 24",
                "2/3/2016 11:00"),
    ]  # fmt: skip
    (exports / "incident_event_log.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Ticker(rules_dir=PRESET, exports=str(exports), db=tmp_path / "db.duckdb") as t:
        _ticks(t, T0, 8)
        esc = _escalations(t)
        state = {
            r[0]: r[1:]
            for r in t.store.con.execute(
                "SELECT issue_id, feed_team, sla_class, responded_at, verdict FROM issue_state"
            ).fetchall()
        }
    assert set(state) == {"INC0000045", "INC0000047", "INC0000050"}
    assert state["INC0000045"][:2] == ("Group 56", "critical")
    assert state["INC0000045"][2] == T0 + timedelta(hours=1)  # seen by the 10:00 export
    assert all(s[3] == "valid" for s in state.values())
    assert [lv for lv, _, _ in esc["INC0000047"]] == [1, 2, 3]
    assert [lv for lv, _, _ in esc["INC0000045"]] == [1]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], stamp: datetime) -> None:
    """An export as published (no stamp in its name): its modification time dates it."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    os.utime(path, (stamp.timestamp(), stamp.timestamp()))


def _rules_with(tmp_path: Path, *presets: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "sla_rules", rules, ignore=shutil.ignore_patterns("tests"))
    for p in presets:
        shutil.copy(p, rules / "sources" / p.name)
    return rules


def test_olist_leads_and_closed_deals_load_through_the_mapping_alone(tmp_path: Path) -> None:
    """Olist's two files as published (a date-only first contact; deals won later by a rep):
    the leads load, the deals win them at ``won_date``, and contact-to-won equals the raw
    files' days."""
    rules = _rules_with(tmp_path, *sorted((REPO / "presets" / "olist").glob("*.yaml")))
    exports = tmp_path / "exports"
    exports.mkdir()
    leads = [["m1", "2018-02-01", "lp1", "social"], ["m2", "2018-03-05", "lp2", "paid_search"],
             ["m3", "2018-03-09", "lp1", ""]]  # fmt: skip
    _write_csv(exports / "olist_marketing_qualified_leads_dataset.csv",
               ["mql_id", "first_contact_date", "landing_page_id", "origin"], leads,
               datetime(2018, 6, 1, tzinfo=UTC))  # fmt: skip
    _write_csv(exports / "olist_closed_deals_dataset.csv",
               ["mql_id", "seller_id", "sdr_id", "sr_id", "won_date", "business_segment"],
               [["m1", "s1", "d1", "rep1", "2018-02-15 10:00:00", "pet"],
                ["m2", "s2", "d2", "rep2", "2018-05-05 19:30:00", "toys"]],
               datetime(2018, 6, 2, tzinfo=UTC))  # fmt: skip
    with Ticker(rules_dir=rules, exports=str(exports), db=tmp_path / "o.duckdb") as t:
        t.tick(datetime(2018, 6, 1, tzinfo=UTC), summary=False)
        t.tick(datetime(2018, 6, 2, tzinfo=UTC), summary=False)
        got = t.store.con.execute(
            "SELECT lead_id, status_class, crm_owner, date_diff('day', "
            "created_at AT TIME ZONE 'America/Sao_Paulo', updated_at AT TIME ZONE "
            "'America/Sao_Paulo') FROM lead_state ORDER BY lead_id"
        ).fetchall()
        flagged = t.store.con.execute(
            "SELECT count(*) FROM quarantine WHERE field = 'created_at'"
        ).fetchall()[0][0]
    assert got == [("m1", "qualified", "rep1", 14), ("m2", "qualified", "rep2", 61),
                   ("m3", "open", None, None)]  # fmt: skip
    assert flagged == 1  # the date-only first contacts, flagged once for the file


def test_nyc311_loads_as_leads_and_as_issues(tmp_path: Path) -> None:
    """The same 311 export as published, once through each NYC preset: every request loads,
    closed ones close (a lead outcome; an issue's resolution at its Closed Date)."""
    header = ["Unique Key", "Created Date", "Closed Date", "Agency", "Complaint Type",
              "Descriptor", "Incident Zip", "Borough", "Status", "Resolution Description",
              "Resolution Action Updated Date", "Open Data Channel Type"]  # fmt: skip
    rows = [
        ["1001", "05/31/2022 11:05:00 PM", "06/01/2022 12:10:00 AM", "NYPD", "Noise",
         "Loud Music", "10001", "MANHATTAN", "Closed", "Police responded.",
         "06/01/2022 12:10:00 AM", "PHONE"],
        ["1002", "05/31/2022 11:20:00 PM", "", "DSNY", "Dirty Sidewalk", "Litter", "11201",
         "BROOKLYN", "In Progress", "", "", "ONLINE"],
    ]  # fmt: skip
    for kind, entity in (("leads", "lead_state"), ("issues", "issue_state")):
        base = tmp_path / kind
        base.mkdir()
        rules = _rules_with(base, *(REPO / "presets" / "nyc311" / kind).glob("*.yaml"))
        exports = base / "exports"
        exports.mkdir()
        _write_csv(exports / "311_Service_Requests_from_2010_to_Present.csv", header, rows,
                   datetime(2022, 6, 1, 6, tzinfo=UTC))  # fmt: skip
        with Ticker(rules_dir=rules, exports=str(exports), db=base / "n.duckdb") as t:
            t.tick(datetime(2022, 6, 1, 6, tzinfo=UTC), summary=False)
            con = t.store.con
            assert con.execute(f"SELECT count(*) FROM {entity}").fetchall()[0][0] == 2, kind
            assert con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 0, kind
            if kind == "leads":
                closed = con.execute(
                    "SELECT lead_id FROM lead_state WHERE status_class = 'qualified'"
                ).fetchall()
                assert closed == [("1001",)]
            else:
                got = con.execute(
                    "SELECT issue_id, date_diff('minute', raised_at, resolved_at), "
                    "responded_at IS NOT NULL FROM issue_state ORDER BY issue_id"
                ).fetchall()
                assert got == [("1001", 65, True), ("1002", None, True)]
