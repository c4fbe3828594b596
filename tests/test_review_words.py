"""The review reads right to a manager: durations in days, hours and minutes, times in the org's
zone the header names, every mart code in words, the period of every table, and cut lists that
say how much they show."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import yaml
from hypothesis import given
from hypothesis import strategies as st

from leadsla.report.data import ReportData
from leadsla.report.render import render_report
from leadsla.report.words import HELD_BACK_WORDS, MISTAKE_WORDS, duration, shown, words
from leadsla.warehouse import DBT_PROJECT

DURATIONS = [
    (None, "n/a"),
    (0.4, "0 min"),
    (45, "45 min"),
    (107, "1 h 47 min"),  # 1 h 47 min, not "107"
    (6412, "4 d 10 h"),  # the issue's raw 6412 minutes
    (1440, "1 d 0 h"),
    (-90, "-1 h 30 min"),  # a response before the deadline reads as such
]


def test_durations_read_as_days_hours_minutes() -> None:
    for minutes, text in DURATIONS:
        assert duration(minutes) == text, minutes


_PARTS = re.compile(r"^-?(?:(\d+) d (\d+) h|(\d+) h (\d+) min|(\d+) min)$")


@given(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False))
def test_a_duration_is_the_minutes_to_the_precision_it_shows(minutes: float) -> None:
    text = duration(minutes)
    m = _PARTS.match(text)
    assert m, text
    d, dh, h, hm, mins = (int(g) if g else 0 for g in m.groups())
    shown_minutes = d * 1440 + dh * 60 + h * 60 + hm + mins
    exact = abs(round(minutes))
    # days show whole hours (the minutes dropped); below a day it is exact
    assert shown_minutes <= exact < shown_minutes + (60 if d else 1)
    assert max(dh, h) < 24
    assert hm < 60


def _documented_codes(folder: str, model: str, column: str) -> set[str]:
    """The codes a mart column documents (its backticked words in the dbt yml)."""
    path = DBT_PROJECT / "models" / "marts" / folder / f"_{folder}__models.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    (m,) = [m for m in doc["models"] if m["name"] == model]
    (c,) = [c for c in m["columns"] if c["name"] == column]
    return set(re.findall(r"`([a-z_]+)`", c["description"]))


def test_every_documented_code_has_manager_words() -> None:
    held = _documented_codes("delivery", "rpt_held_back", "held_back_kind")
    mistakes = _documented_codes("issues", "rpt_sop_mistakes", "mistake")
    assert {"feed_lag_step", "dead"} <= held
    assert "no_admin_note_after_escalation" in mistakes
    assert held <= set(HELD_BACK_WORDS)
    assert mistakes <= set(MISTAKE_WORDS)


@given(st.from_regex(r"[a-z]+(_[a-z]+){0,4}", fullmatch=True))
def test_an_unknown_code_still_reads_as_words(code: str) -> None:
    assert "_" not in words(code, {})


def test_a_cut_list_says_how_much_it_shows() -> None:
    assert shown("Missed", 10, 17) == "Missed (10 of 17 shown)"
    assert shown("Missed", 3, 3) == "Missed"


def _data() -> ReportData:
    day = date(2026, 11, 23)
    due = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
    missed = [
        {"lead_id": f"L{i}", "team_id": "inbound", "owner_id": None, "intent": "high",
         "lead_source": "google", "due_at": due, "first_response_at": None,
         "escalation_count": 1, "record_url": None, "total": 17}
        for i in range(10)
    ]  # fmt: skip
    return ReportData(
        report_date=day,
        team=None,
        headline={
            "leads_in": 5,
            "sla_met_pct": 50.0,
            "escalations": 2,
            "issue_escalations": 7,
            "recovered": 0,
            "sla_missed": 17,
            "waiting_at_day_end": 1,
        },
        issue_levels=[(0, 1), (1, 4), (2, 2)],
        overdue_owners=[
            {
                "owner_id": None,
                "team_id": "review",
                "overdue_leads": 3,
                "oldest_due_at": due,
                "max_minutes_waiting": 6412.0,
                "total": 1,
            }
        ],
        missed_leads=missed,
        held_back=[{"held_back_kind": "feed_lag_step", "items": 2}],
        sop_mistakes=[{"mistake": "no_admin_note_after_escalation", "items": 1}],
        totals={"overdue_owners": 1, "missed_leads": 17, "waiting_leads": 0},
    )


def test_the_rendered_review_reads_right_to_a_manager() -> None:
    rep = render_report(_data(), org_name="Acme", zone="Asia/Kolkata", scope_name="Management")
    for text in (rep.html, rep.text):
        assert "times in Asia/Kolkata" in text
        assert "2026-11-23 10:00" in text  # the deadline in the org's zone, not 04:30 UTC
        assert "04:30" not in text
        assert "4 d 10 h" in text
        assert "6412" not in text
        assert "(10 of 17 shown)" in text
        assert "all time" in text  # missed SLAs by source are not this day's
        assert "this day" in text
        assert "unassigned" in text  # the owner-less row, grouped under its queue team
        assert "L1 4 · L2 2 · level not given 1" in text
        for code in ("feed_lag_step", "no_admin_note_after_escalation"):
            assert code not in text
        assert HELD_BACK_WORDS["feed_lag_step"] in text
