"""Lead issues raised on the week's leads (seed 002): every type, answered fast, late and
never, incomplete ones, non-blockers, an unknown type, high-value devices, a repeated pattern."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsla.calendars import BusinessCalendar
from leadsla_demo.leads import DemoLead
from leadsla_demo.week import IST, SEED, WEEK_START, state_at

DEVICES = ["Samsung Galaxy A15", "Redmi Note 13", "OnePlus Nord 4", "Vivo Y28", "Realme 12"]
PREMIUM = ["iPhone 15 Pro", "MacBook Air M3"]
SUMMARIES = {
    "serviceability": "Pincode {pin} not serviceable; customer keen",
    "pricing": "Customer has a confirmed competitor quote",
    "technical": "Model missing on the price page",
    "pickup": "No pickup vendor for the slot",
    "coupon": "Coupon FEST10 not applying at checkout",
    "data": "Lead assigned to the wrong territory",
    "cx_risk": "Customer upset about repeated calls",
}
ISSUE_TYPES = list(SUMMARIES)
HIGH_FORMS = ("contact_form", "booking", "implementation_request")


@dataclass
class DemoIssue:
    row: dict[str, Any]
    #: (time, changes) in time order: a completion, a response, a resolution
    timeline: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def at(self, t: datetime) -> dict[str, Any] | None:
        return state_at(self.row, self.row["raised_at"], self.timeline, t, "_changed")


def generate_issues(leads: list[DemoLead], cal: BusinessCalendar, seed: int = SEED) -> list[
        DemoIssue]:  # fmt: skip
    """Blockers raised on the week's leads (seed 002): every type, answered fast, late and
    never, incomplete ones (one completed later), non-blockers, an unknown type, high-value
    devices and a repeated pattern (three coupon issues in one city in a day)."""
    rng = random.Random(seed + 2)
    weekday = [ld for ld in leads if ld.created_at.astimezone(IST).weekday() < 5
               and 10 <= ld.created_at.astimezone(IST).hour < 16]  # fmt: skip
    high = [ld for ld in weekday if ld.fields["form_type"] in HIGH_FORMS]
    # mostly high-intent leads (their issues climb, as the SOP says), a few others
    picks = rng.sample(high, 18) + rng.sample([ld for ld in weekday if ld not in high], 8)
    rng.shuffle(picks)
    plan: list[dict[str, Any]] = [{"type": t} for t in ISSUE_TYPES for _ in range(2)]
    plan += [{"type": "pickup", "missing": "customer_phone", "completed": True},
             {"type": "pricing", "missing": "impact"},
             {"type": "serviceability", "missing": "city"},
             {"type": "pickup", "non_blocker": "customer_thinking"},
             {"type": "pricing", "non_blocker": "callback_requested"},
             {"type": "warranty"},
             {"type": "pickup", "device": PREMIUM[0]},
             {"type": "technical", "device": PREMIUM[1]}]  # fmt: skip
    issues: list[DemoIssue] = []
    for k, (spec, ld) in enumerate(zip(plan, picks, strict=False)):
        raised = cal.add_business_minutes(ld.created_at, rng.uniform(20, 120))
        row: dict[str, Any] = {
            "issue_id": f"ISS-{k + 1:03d}",
            "lead_id": ld.lead_id,
            "raised_at": raised,
            "raised_by": ld.fields["owner"] if "@" not in str(ld.fields["owner"])
            and ld.fields["owner"] else "sneha",
            "issue_type": spec["type"],
            "summary": SUMMARIES.get(spec["type"], "Extended warranty question").format(
                pin=rng.randint(400001, 499999)),
            "impact": rng.choice(["conversion_risk", "conversion_risk", "complaint_risk"]),
            "customer_name": f"{ld.fields['first']} {ld.fields['last']}",
            "customer_phone": f"+91 97{rng.randint(10000000, 99999999)}",
            "device": spec.get("device", rng.choice(DEVICES)),
            "city": ld.fields["city"],
            "status": "open",
            "responded_at": None,
            "resolved_at": None,
            "resolution": "",
            "no_escalation_reason": spec.get("non_blocker", ""),
        }  # fmt: skip
        if "missing" in spec:
            value = row[spec["missing"]]
            row[spec["missing"]] = ""
        issue = DemoIssue(row)
        if spec.get("completed"):
            issue.timeline.append((raised + timedelta(minutes=50), {spec["missing"]: value}))
        r = rng.random()
        if r < 0.45:  # answered, mostly within the team's SLA
            responded = cal.add_business_minutes(raised, rng.uniform(35, 120))
        elif r < 0.75:  # late: level 2 is called first
            responded = cal.add_business_minutes(raised, rng.uniform(600, 900))
        else:
            responded = None  # never: level 3
        if responded is not None:
            issue.timeline.append((responded, {"status": "responded",
                                               "responded_at": responded}))  # fmt: skip
            resolved = cal.add_business_minutes(responded, rng.uniform(30, 480))
            issue.timeline.append((resolved, {"status": "resolved", "resolved_at": resolved,
                                              "resolution": "unblocked"}))  # fmt: skip
        issue.timeline.sort(key=lambda x: x[0])
        issues.append(issue)
    # the repeated pattern: the same coupon failing three times in one city on one morning
    city_leads = [ld for ld in weekday if ld.fields["city"] == picks[0].fields["city"]][:3]
    for j, ld in enumerate(city_leads):
        raised = (WEEK_START + timedelta(days=3, hours=11, minutes=20 * j)).astimezone(UTC)
        issues.append(DemoIssue({**issues[0].row, "issue_id": f"ISS-R{j + 1}",
                                 "lead_id": ld.lead_id, "raised_at": raised,
                                 "issue_type": "coupon", "summary": SUMMARIES["coupon"],
                                 "city": picks[0].fields["city"],
                                 "no_escalation_reason": ""}))  # fmt: skip
    return issues
