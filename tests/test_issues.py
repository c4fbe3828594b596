"""Seed 002's escalation SOP as a specification: each rule a table of cases, through real ticks
over canonical exports on disk."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from leadsla.cli import main
from leadsla.pipelines.tick import replay, run_tick
from leadsla.rules.records import ISSUE_FIELDS

from .conftest import WriteLeads

IST = "+05:30"
KOLKATA = timezone(timedelta(hours=5, minutes=30))
HIGH = {"form_type": "contact_form", "service_interest": "seo", "email": "a@x.io",
        "status": "new", "owner": "rahul", "city": "Mumbai"}  # fmt: skip
LOW = {**HIGH, "form_type": "checklist_download", "owner": "sneha"}
COMPLETE = {"raised_by": "rahul", "summary": "Vendor unavailable", "impact": "conversion_risk",
            "customer_name": "Asha Rao", "customer_phone": "+91 98200 00000",
            "device": "Samsung A15", "city": "Mumbai"}  # fmt: skip


def at(hhmm: str, day: int = 23) -> datetime:
    return datetime.fromisoformat(f"2026-11-{day:02d}T{hhmm}:00{IST}").astimezone(UTC)


def stamp(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ")


def write_issues(exports: Path, when: datetime, rows: list[dict[str, Any]]) -> Path:
    path = exports / f"issues_{stamp(when)}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ISSUE_FIELDS))
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in ISSUE_FIELDS})
    return path


def issue(issue_id: str, lead: str = "L1", itype: str = "pickup", raised: str = "10:00",
          day: int = 23, **extra: str) -> dict[str, str]:  # fmt: skip
    return {**COMPLETE, "issue_id": issue_id, "lead_id": lead, "issue_type": itype,
            "raised_at": f"2026-11-{day:02d} {raised}", **extra}  # fmt: skip


def issue_events(db: Path, issue_id: str | None = None) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        cur = con.execute(
            "SELECT event_id, event_type, issue_id, occurred_at, level, target, rule_id, "
            "CAST(details AS VARCHAR) AS details FROM sla_events "
            "WHERE event_type LIKE 'issue%' AND (? IS NULL OR issue_id = ?) "
            "ORDER BY occurred_at, issue_id, level NULLS FIRST, event_type",
            [issue_id, issue_id],
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["details"] = json.loads(r["details"] or "null")
    return rows


def ladder(db: Path, issue_id: str) -> list[tuple[int, str, str]]:
    """(level, target, occurred_at in IST as 'DD HH:MM') of each escalation."""
    return [
        (e["level"], e["target"], e["occurred_at"].astimezone(KOLKATA).strftime("%d %H:%M"))
        for e in issue_events(db, issue_id) if e["event_type"] == "issue_escalated"
    ]  # fmt: skip


@pytest.fixture
def setup(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> dict[str, Any]:
    """A high-intent lead L1 (Mumbai), a low-intent lead L2 and an iPhone lead L3."""
    write_leads(
        "20261123T040000Z",
        [
            {**HIGH, "lead_id": "L1", "created_at": "2026-11-23 09:20"},
            {**LOW, "lead_id": "L2", "created_at": "2026-11-23 09:20"},
            {**HIGH, "lead_id": "L3", "created_at": "2026-11-23 09:20", "device": "iPhone 15"},
        ],
    )
    return {"rules": rules_dir, "exports": exports, "db": tmp_path / "t.duckdb"}


def tick(s: dict[str, Any], now: datetime) -> None:
    run_tick(rules_dir=s["rules"], exports=str(s["exports"]), db=s["db"], now=now)


# ---- the ownership matrix ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("itype", "teams", "subject"),
    [
        ("serviceability", ["bd"], "Pincode Not Serviceable"),
        ("pricing", ["ops"], "Price Match Request"),  # Ops / Pricing: Ops first
        ("technical", ["tech", "cx"], "App or Website Issue"),  # Tech + CX: both
        ("pickup", ["ops"], "Pickup Not Available"),
        ("coupon", ["marketing"], "Coupon Not Applying"),
        ("data", ["ops"], "Lead Data Issue"),
        ("cx_risk", ["cx"], "Customer Escalation Risk"),
    ],
)
def test_matrix_routes_each_type_to_its_team(
    setup: dict[str, Any], itype: str, teams: list[str], subject: str
) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("I", itype=itype)])
    tick(setup, at("10:06"))
    [l1] = [e for e in issue_events(setup["db"], "I") if e["level"] == 1]
    assert l1["details"]["teams"] == teams
    assert l1["target"] == "+".join(teams)
    assert l1["details"]["subject"] == f"Escalation | High-Intent Lead | {subject} | Mumbai"
    assert l1["details"]["holding_line"].startswith("I’m checking this with our team")
    assert {r["role"] for r in l1["details"]["recipients"]} == {"team"}


@pytest.mark.slow
def test_a_over_b_falls_back_when_a_has_nobody_available(setup: dict[str, Any]) -> None:
    org_path = setup["rules"] / "org.yaml"
    org = yaml.safe_load(org_path.read_text())
    for m in org["members"]:
        if m["team"] == "ops":
            m["available"] = False
    org_path.write_text(yaml.safe_dump(org))
    write_issues(setup["exports"], at("10:05"), [issue("I", itype="pricing")])
    tick(setup, at("10:06"))
    [l1] = issue_events(setup["db"], "I")[1:]
    assert l1["details"]["teams"] == ["pricing"]
    assert l1["details"]["admin_note"] == (
        "Escalated to Pricing – price match requested. High-Intent lead. Awaiting confirmation."
    )


# ---- validation and when not to escalate --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "field",
    ["lead_id", "customer_name", "customer_phone", "device", "city", "summary", "impact"],
)
def test_each_missing_detail_is_named_and_nothing_escalates(
    setup: dict[str, Any], field: str
) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("I", **{field: ""})])
    tick(setup, at("11:00"))
    types = [e["event_type"] for e in issue_events(setup["db"], "I")]
    assert types == ["issue_raised", "issue_rejected"]
    rej = issue_events(setup["db"], "I")[1]["details"]
    assert (rej["reason"], rej["missing_fields"]) == ("missing_fields", [field])
    assert field in rej["message_to_raiser"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "reason", ["customer_thinking", "callback_requested", "confirmed_not_serviceable",
               "not_interested"],
)  # fmt: skip
def test_non_blockers_are_rejected(setup: dict[str, Any], reason: str) -> None:
    write_issues(setup["exports"], at("10:05"),
                 [issue("I", no_escalation_reason=reason, customer_phone="")])  # fmt: skip
    tick(setup, at("11:00"))
    [_, rej] = issue_events(setup["db"], "I")
    assert rej["details"]["reason"] == "not_a_blocker"
    assert reason in rej["details"]["message_to_raiser"]


@pytest.mark.slow
def test_unknown_type_lists_the_known_ones(setup: dict[str, Any]) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("I", itype="teleporter")])
    tick(setup, at("11:00"))
    [_, rej] = issue_events(setup["db"], "I")
    assert rej["details"]["reason"] == "unknown_type"
    assert "serviceability" in rej["details"]["known_types"]
    assert "pickup" in rej["details"]["message_to_raiser"]


@pytest.mark.slow
def test_a_completed_issue_proceeds_and_the_rejection_is_not_repeated(
    setup: dict[str, Any],
) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("I", customer_phone="")])
    tick(setup, at("10:10"))
    tick(setup, at("10:20"))  # nothing new: the rejection stands, once
    write_issues(setup["exports"], at("10:30"), [issue("I")])
    tick(setup, at("10:31"))
    tick(setup, at("10:32"))
    types = [(e["event_type"], e["level"]) for e in issue_events(setup["db"], "I")]
    assert types == [("issue_raised", None), ("issue_rejected", None), ("issue_escalated", 1)]


# ---- the ladder ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_unanswered_climbs_level_by_level_on_business_time(setup: dict[str, Any]) -> None:
    """'same day' is the end of Ops' business day (18:30); level 2 then has 60 business
    minutes, which cross the night and Guru Nanak Jayanti (Tuesday 24 Nov 2026, a holiday)."""
    write_issues(setup["exports"], at("10:05"), [issue("I", itype="pickup", raised="10:00")])
    replay(rules_dir=setup["rules"], exports=str(setup["exports"]), db=setup["db"],
           start=at("10:40"), end=at("11:00", day=25), every=timedelta(hours=2))  # fmt: skip
    assert ladder(setup["db"], "I") == [
        (1, "ops", "23 10:00"),
        (2, "suresh", "23 18:30"),  # Ops' team lead
        (3, "management", "25 10:30"),
    ]
    l3 = issue_events(setup["db"], "I")[-1]["details"]
    assert {r["role"] for r in l3["recipients"]} == {"management"}
    assert l3["reason"] == "sla_timeout"


@pytest.mark.slow
def test_immediate_issue_across_a_weekend(setup: dict[str, Any], write_leads: WriteLeads) -> None:
    """Raised Saturday 18:20 with 10 business minutes left: 'immediate' (30 minutes) ends
    Monday 09:50, Sunday being closed; level 3 an hour after that."""
    write_leads("20261128T124500Z", [{**HIGH, "lead_id": "W", "created_at": "2026-11-28 18:10"}])
    write_issues(setup["exports"], at("18:21", day=28),
                 [issue("I", lead="W", itype="technical", raised="18:20", day=28)])  # fmt: skip
    replay(rules_dir=setup["rules"], exports=str(setup["exports"]), db=setup["db"],
           start=at("18:30", day=28), end=at("12:30", day=30),
           every=timedelta(hours=2))  # fmt: skip
    assert ladder(setup["db"], "I") == [
        (1, "tech+cx", "28 18:20"),
        (2, "ankit+maya", "30 09:50"),
        (3, "management", "30 10:50"),
    ]


@pytest.mark.slow
def test_a_response_stops_the_ladder_and_is_timed(setup: dict[str, Any]) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("I", itype="technical", raised="10:00")])
    write_issues(setup["exports"], at("10:20"),
                 [issue("I", itype="technical", raised="10:00", responded_at="2026-11-23 10:18",
                        status="responded")])  # fmt: skip
    write_issues(setup["exports"], at("15:00"),
                 [issue("I", itype="technical", raised="10:00", responded_at="2026-11-23 10:18",
                        resolved_at="2026-11-23 14:30", resolution="price fixed")])  # fmt: skip
    replay(rules_dir=setup["rules"], exports=str(setup["exports"]), db=setup["db"],
           start=at("10:05"), end=at("16:00"), every=timedelta(minutes=30))  # fmt: skip
    evs = {e["event_type"]: e for e in issue_events(setup["db"], "I")}
    assert ladder(setup["db"], "I") == [(1, "tech+cx", "23 10:00")]
    assert evs["issue_responded"]["details"]["business_minutes"] == 18.0
    assert evs["issue_resolved"]["details"]["business_minutes"] == 270.0
    assert evs["issue_resolved"]["details"]["resolution"] == "price fixed"


@pytest.mark.slow
def test_low_intent_issues_stay_with_the_team(setup: dict[str, Any]) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("I", lead="L2", raised="10:00")])
    replay(
        rules_dir=setup["rules"],
        exports=str(setup["exports"]),
        db=setup["db"],
        start=at("10:10"),
        end=at("20:00"),
        every=timedelta(hours=2),
    )  # past 18:30
    assert ladder(setup["db"], "I") == [(1, "ops", "23 10:00")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lead", "extra", "reason"),
    [
        ("L3", {"device": "iPhone 15"}, "high_value"),  # premium device
        ("L1", {"itype": "cx_risk"}, "cx_risk"),  # customer escalation risk
    ],
)
def test_direct_to_management(
    setup: dict[str, Any], lead: str, extra: dict[str, str], reason: str
) -> None:
    itype = extra.pop("itype", "pickup")
    write_issues(setup["exports"], at("10:05"),
                 [issue("I", lead=lead, itype=itype, raised="10:00", **extra)])  # fmt: skip
    replay(
        rules_dir=setup["rules"],
        exports=str(setup["exports"]),
        db=setup["db"],
        start=at("10:10"),
        end=at("20:00"),
        every=timedelta(hours=2),
    )  # past level 2's time
    levels = [(lv, t) for lv, _, t in ladder(setup["db"], "I")]
    assert levels == [(1, "23 10:00"), (3, "23 10:00")]  # no level 2 after management
    l3 = next(e for e in issue_events(setup["db"], "I") if e["level"] == 3)["details"]
    assert l3["reason"] == reason
    if reason == "high_value":
        assert l3["priority"] == "high"
        assert l3["senior_agent"] == "suresh"  # the senior member of Ops
        assert {"management", "senior_agent"} <= {r["role"] for r in l3["recipients"]}


@pytest.mark.slow
def test_estimated_value_makes_a_lead_high_value(
    setup: dict[str, Any], write_leads: WriteLeads
) -> None:
    write_leads("20261123T041000Z", [{**LOW, "lead_id": "V", "created_at": "2026-11-23 09:30"}])
    path = setup["exports"] / "leads_20261123T041000Z.csv"
    rows = list(csv.DictReader(path.open()))
    with path.open("w", newline="") as fh:  # the canonical header has estimated_value too
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "estimated_value"])
        w.writeheader()
        w.writerows([{**r, "estimated_value": "75000"} for r in rows])
    write_issues(setup["exports"], at("10:05"), [issue("I", lead="V", raised="10:00")])
    tick(setup, at("10:06"))
    assert [lv for lv, _, _ in ladder(setup["db"], "I")] == [1, 3]


@pytest.mark.slow
def test_third_unresolved_issue_of_a_kind_in_a_city_goes_to_management(
    setup: dict[str, Any],
) -> None:
    write_issues(setup["exports"], at("10:05"), [
        issue("A", lead="L2", itype="coupon", raised="10:00", day=23),
        issue("B", lead="L2", itype="coupon", raised="10:01", day=23),
        issue("C", lead="L2", itype="coupon", raised="10:02", day=23),
        issue("D", lead="L1", itype="coupon", raised="10:03", day=23, city="Pune"),
    ])  # fmt: skip
    tick(setup, at("10:06"))
    got = {i: [lv for lv, _, _ in ladder(setup["db"], i)] for i in "ABCD"}
    assert got == {"A": [1], "B": [1], "C": [1, 3], "D": [1]}
    [c3] = [e for e in issue_events(setup["db"], "C") if e["level"] == 3]
    assert c3["details"]["reason"] == "repeated_pattern"


# ---- idempotence, cadence and the command line --------------------------------------------------


@pytest.mark.slow
def test_reruns_and_cadence_add_nothing_new(setup: dict[str, Any], tmp_path: Path) -> None:
    write_issues(setup["exports"], at("10:05"), [
        issue("P", itype="pickup", raised="10:00"), issue("T", itype="technical", raised="10:02"),
        issue("X", itype="pickup", raised="10:03", customer_phone=""),
    ])  # fmt: skip

    def run(db: Path, every: timedelta) -> list[tuple[Any, ...]]:
        replay(rules_dir=setup["rules"], exports=str(setup["exports"]), db=db,
               start=at("10:05"), end=at("19:05"), every=every)  # fmt: skip
        return [(e["event_id"], e["event_type"], e["occurred_at"], e["level"], e["target"])
                for e in issue_events(db)]  # fmt: skip

    fine = run(tmp_path / "fine.duckdb", timedelta(minutes=30))
    hourly = run(tmp_path / "hourly.duckdb", timedelta(minutes=60))
    assert fine == hourly
    assert {e[3] for e in fine} == {None, 1, 2, 3}  # raised, rejected and all three levels
    assert len(fine) == len({e[0] for e in fine})  # every event once
    again = run(tmp_path / "fine.duckdb", timedelta(minutes=30))  # the same ticks again
    assert again == fine


@pytest.mark.slow
def test_issues_csv_beside_leads_csv_needs_no_mapping(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    write_issues(setup["exports"], at("10:05"), [issue("OK"), issue("NOPHONE", customer_phone="")])
    rc = main(["tick", "--rules", str(setup["rules"]), "--exports", str(setup["exports"]),
               "--db", str(setup["db"]), "--now", "2026-11-23T10:10:00+05:30",
               "--json"])  # fmt: skip
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["events_by_type"]["issue_raised"] == 2
    [rej] = [e for e in issue_events(setup["db"], "NOPHONE") if e["event_type"] == "issue_rejected"]
    assert rej["details"]["missing_fields"] == ["customer_phone"]


@pytest.mark.slow
def test_cli_raise_escalates_or_says_what_to_add(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--rules", str(setup["rules"]), "--exports", str(setup["exports"]),
              "--db", str(setup["db"]), "--now", "2026-11-23T10:10:00+05:30"]  # fmt: skip
    details = ["--lead", "L1", "--type", "coupon", "--summary", "SAVE10 fails",
               "--impact", "conversion_risk", "--customer-name", "Asha", "--device", "A15",
               "--city", "Mumbai", "--raised-by", "rahul"]  # fmt: skip
    assert main(["issue", "raise", *common, *details, "--issue-id", "CLI-1"]) == 2
    assert "customer_phone" in capsys.readouterr().out
    rc = main(["issue", "raise", *common, *details, "--issue-id", "CLI-1",
               "--customer-phone", "+91 90000 00000"])  # fmt: skip
    assert rc == 0
    assert "Escalation | High-Intent Lead | Coupon Not Applying | Mumbai" in capsys.readouterr().out
    assert [lv for lv, _, _ in ladder(setup["db"], "CLI-1")] == [1]
