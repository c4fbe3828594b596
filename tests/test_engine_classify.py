"""The classify step on its own: the first intent rule by priority, onto lead state, with an
``intent_classified`` event naming the owner the lead arrived with."""

from __future__ import annotations

from pathlib import Path

from leadsla.engine.classify import classify

from .engine_db import content_id, engine_db, insert, ist, lead, rows, shipped_rules

NOW = ist(2026, 11, 30, 11)
T0 = ist(2026, 11, 30, 10)

FULL = {"email": "a@example.com", "phone": "+91 90000 00000", "service_interest": "seo"}


def test_first_matching_rule_by_priority(tmp_path: Path) -> None:
    with engine_db(tmp_path) as con:
        # cases: (lead, columns) -> expected rule
        lead(con, "high", T0, form_type="contact_form", **FULL)  # high_intent_forms (30)
        # the support keywords (5) beat the high-intent form (30)
        lead(con, "support", T0, form_type="contact_form", message="Login broken", **FULL)
        # no service interest (10) beats the form (30)
        lead(con, "noservice", T0, form_type="contact_form", email="b@example.com")
        # no email and no phone (20) beats the form (30)
        lead(con, "nocontact", T0, form_type="booking", service_interest="seo")
        lead(con, "vague", T0, form_type="newsletter", **FULL)  # only the fallback matches
        lead(con, "done", T0, form_type="guide_request", intent="mid", **FULL)  # has one
        assert classify(con, shipped_rules(), NOW) == 5
        assert rows(con, "SELECT lead_id, rule_id, intent FROM classified ORDER BY 1") == [
            ("high", "high_intent_forms", "high"),
            ("nocontact", "unclear_incomplete_form", "unclear"),
            ("noservice", "unclear_missing_service", "unclear"),
            ("support", "support_inquiry", "low"),
            ("vague", "unclear_unrecognised", "unclear"),
        ]
        state = rows(
            con,
            "SELECT lead_id, intent, policy_id, qual_policy_id, next_policy_id, team,"
            " needs_review FROM lead_state ORDER BY 1",
        )
        assert state == [
            ("done", "mid", None, None, None, None, None),
            ("high", "high", "high_first_response", "high_qualification", "high_next_step",
             None, None),
            ("nocontact", "unclear", "unclear_qualification", None, None, "review",
             "unclear intent"),
            ("noservice", "unclear", "unclear_qualification", None, None, "review",
             "unclear intent"),
            ("support", "low", "support_handoff", None, None, "support", None),
            ("vague", "unclear", "unclear_qualification", None, None, "review",
             "unclear intent"),
        ]  # fmt: skip


def test_event_names_the_owner_the_lead_arrived_with(tmp_path: Path) -> None:
    with engine_db(tmp_path) as con:
        # a later export in the same catch-up tick moved the lead from rahul to sneha
        lead(con, "L1", T0, form_type="contact_form", crm_owner="sneha", **FULL)
        insert(con, "lead_history", lead_id="L1", valid_from=T0, crm_owner="rahul")
        insert(con, "lead_history", lead_id="L1", valid_from=ist(2026, 11, 30, 10, 30),
               crm_owner="sneha")  # fmt: skip
        classify(con, shipped_rules(), NOW)
        (event,) = rows(
            con,
            "SELECT event_id, event_type, occurred_at, recorded_at, rule_id, owner,"
            " details->>'intent' FROM sla_events",
        )
        assert event == (
            content_id("L1", "intent_classified"), "intent_classified", T0, NOW,
            "high_intent_forms", "rahul", "high",
        )  # fmt: skip
        # a second run finds nothing left to classify: no second event
        assert classify(con, shipped_rules(), NOW) == 0
        assert rows(con, "SELECT count(*) FROM sla_events") == [(1,)]
