"""The week's leads with their timelines: who they are, where they came from, how fast (or
whether) their owner answered, and what became of them. Deterministic for a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsla.calendars import BusinessCalendar
from leadsla_demo.week import SEED, WEEK_START, state_at

FIRST = [
    "Aarav",
    "Diya",
    "Kabir",
    "Ananya",
    "Vihaan",
    "Isha",
    "Reyansh",
    "Saanvi",
    "José",
    "Zoë",
    "Arjun",
    "Meher",
    "Rohan",
    "Tara",
    "Nikhil",
    "Leela",
]
LAST = ["Sharma", "Verma", "Iyer", "Khan", "Patel", "Muñoz", "Bose", "Kapoor", "Rao", "Nair"]
CITIES = [
    ("Mumbai", "MH"),
    ("Pune", "MH"),
    ("Bengaluru", "KA"),
    ("Delhi", "DL"),
    ("Chennai", "TN"),
    ("Hyderabad", "TS"),
]
FORMS = [
    ("contact_form", 20),
    ("booking", 8),
    ("implementation_request", 8),
    ("audit_request", 12),
    ("diagnostic", 6),
    ("service_inquiry", 12),
    ("checklist_download", 12),
    ("guide_request", 8),
    ("content_optin", 6),
    ("", 4),
    ("webinar_signup", 4),
]
SERVICES = ["seo", "ppc", "crm_implementation", "ai_automation", "web_design", "implementation"]
MESSAGES = [
    "Please call me about pricing",
    "We need help with our funnel",
    "Looking for a quote this week",
    "Can you audit our ads account?",
    "Interested, send details",
    "hi",
]
SUPPORT = ["My invoice is wrong, please fix", "Login issue on the dashboard since Monday"]
INBOUND = ["rahul", "sneha", "amit", "priya"]
SOLUTIONS = ["divya", "karan", "arjun"]


@dataclass
class DemoLead:
    lead_id: str
    source: str
    created_at: datetime
    fields: dict[str, Any]
    #: (time, changes) in time order: owner, status class, first response
    timeline: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def at(self, t: datetime) -> dict[str, Any] | None:
        return state_at(self.fields, self.created_at, self.timeline, t, "updated_at")


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def generate_leads(cal: BusinessCalendar, seed: int = SEED) -> list[DemoLead]:
    """The week's leads with their full timelines, deterministic for a seed."""
    rng = random.Random(seed)
    leads: list[DemoLead] = []
    n = 0
    for day in range(7):
        date0 = WEEK_START + timedelta(days=day)
        per_day = 4 if date0.weekday() == 6 else 40
        for _ in range(per_day):
            n += 1
            if rng.random() < 0.1:  # a few arrive at night
                minute = rng.choice([rng.randint(0, 8 * 60), rng.randint(19 * 60, 23 * 60 + 59)])
            else:
                minute = rng.randint(9 * 60 + 15, 18 * 60 + 40)
            created = (date0 + timedelta(minutes=minute, seconds=rng.randint(0, 59))).astimezone(
                UTC
            )
            leads.append(_lead(rng, cal, n, created))
    return leads


def _lead(rng: random.Random, cal: BusinessCalendar, n: int, created: datetime) -> DemoLead:
    source = "hubspot" if rng.random() < 0.6 else "salesforce"
    form = _weighted(rng, FORMS)
    service = "" if rng.random() < 0.08 else rng.choice(SERVICES)
    support = rng.random() < 0.03
    message = rng.choice(SUPPORT) if support else rng.choice(MESSAGES)
    city, state = rng.choice(CITIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    r = rng.random()
    pool = (
        SOLUTIONS
        if service in ("crm_implementation", "ai_automation", "implementation")
        else INBOUND
    )
    owner = rng.choice(pool) if r < 0.55 else ("sales@acme.example" if r < 0.9 else "")
    fields = {
        "first": first,
        "last": last,
        "email": "" if rng.random() < 0.03 else f"{first.lower()}.{n}@example.com",
        "phone": "" if rng.random() < 0.3 else f"+91 98{rng.randint(10000000, 99999999)}",
        "lead_source": rng.choice(["google_ads", "organic", "linkedin", "referral", "webinar"]),
        "campaign": rng.choice(["q4_growth", "crm_webinar", "brand", ""]),
        "form_type": form,
        "service_interest": service,
        "message": message,
        "city": city,
        "territory": state,
        "company_size": rng.choice(["1-10", "11-50", "51-200", "201-1000", "1000+"]),
        "lead_score": rng.randint(5, 95),
        "estimated_value": rng.choice([0, 500, 2500, 12000]),
        "owner": owner,
        "status": "open",
        "first_response_at": None,
    }
    lead = DemoLead(f"{'HS' if source == 'hubspot' else 'SF'}-{n:05d}", source, created, fields)
    intent_speed = {"contact_form": 1, "booking": 1, "implementation_request": 1}.get(form, 6)
    p = rng.random()
    if p < 0.45:
        mins = rng.uniform(2, 12) * intent_speed
    elif p < 0.70:
        mins = rng.uniform(16, 45) * intent_speed
    elif p < 0.80:
        mins = rng.uniform(50, 200) * intent_speed
    else:
        mins = None
    if rng.random() < 0.05 and owner in INBOUND + SOLUTIONS:  # the CRM moves it by hand
        other = rng.choice([m for m in pool if m != owner])
        lead.timeline.append((cal.add_business_minutes(created, 45), {"owner": other}))
    if mins is not None:
        responded = cal.add_business_minutes(created, mins)
        lead.timeline.append((responded, {"status": "answered", "first_response_at": responded}))
        outcome = _weighted(
            rng,
            [
                ("qualified", 35),
                ("booked", 20),
                ("disqualified", 20),
                ("lost", 15),
                ("contacted", 10),
            ],
        )
        lead.timeline.append(
            (cal.add_business_minutes(responded, rng.uniform(60, 1500)), {"status": outcome})
        )
    elif rng.random() < 0.6:
        lead.timeline.append(
            (
                cal.add_business_minutes(created, 1700),
                {"status": "no_response" if source == "salesforce" else "lost"},
            )
        )
    lead.timeline.sort(key=lambda x: x[0])
    return lead
