"""A ServiceNow-shaped year of incidents as hourly canonical issue exports, for the replay
benchmark (``bench/replay_bench.py``).

The shape follows the real UCI incident log (``../shared/datasets/uci_incident_event_log``,
read only to learn it): 24,918 incidents and about 141,712 changes over a year, exported in
the hours that have a change (about 3,845 of them: weekday working hours), statuses New,
Active, Awaiting (user info, vendor), Resolved and Closed, 79 assignment groups and 4
priorities; the first change away from New comes after a median of about 0.35 working hours
(a long tail), the resolution after a median of about 22. Each hourly file holds the incidents
changed in that hour as they stand at its end (a delta, like the demo's issue exports), with
the first response and the resolution valid as of that moment. Nothing is random beyond the
seed: the same arguments write the same bytes.

Run: ``python -m bench.servicenow_year --out DIR [--incidents N] [--hours N]``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from leadsla.rules.records import ISSUE_FIELDS

INCIDENTS = 24_918
CHANGES = 141_712
#: working hours with a change in the real log's year
HOURS = 3_845
#: the canonical issue source's office time (its naive times are read in it)
OFFICE = timezone(timedelta(hours=5, minutes=30))
#: Monday 5 January 2026, 08:00 office time
FIRST = datetime(2026, 1, 5, 8, tzinfo=OFFICE)
GROUPS = 79
#: priority (1 critical .. 4 low) with the log's shares, and the SOP issue type it is raised as
PRIORITY_SHARE = [0.015, 0.025, 0.94, 0.02]
PRIORITY_TYPE = ["cx_risk", "technical", "data", "coupon"]
PRIORITY_IMPACT = ["complaint_risk", "conversion_risk", "other", "other"]


def working_hours(n: int) -> list[datetime]:
    """The first ``n`` working hours from :data:`FIRST`: weekdays, 08:00 to 23:00."""
    out: list[datetime] = []
    day = FIRST
    while len(out) < n:
        if day.weekday() < 5:
            out.extend(day + timedelta(hours=h) for h in range(15))
        day += timedelta(days=1)
    return out[:n]


def changes(incidents: int, hours: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every change of every incident, in working hours since the first: opened (New), the
    first response (Active), updates (Active or Awaiting), resolved, and closed."""
    opened = rng.uniform(0, hours, incidents)
    extra = rng.poisson((CHANGES / INCIDENTS) - 1, incidents)  # changes after the opening one
    respond = opened + rng.lognormal(np.log(0.35), 3.0, incidents)
    resolve = np.maximum(respond, opened + rng.lognormal(np.log(22), 2.2, incidents))
    rows = []
    for i in range(incidents):
        k = int(extra[i])
        times = [opened[i]]
        status = ["New"]
        if k >= 1:
            times.append(respond[i])
            status.append("Active")
        mids = np.sort(rng.uniform(respond[i], resolve[i], max(k - 3, 0)))
        times.extend(mids)
        status.extend(rng.choice(["Active", "Awaiting User Info", "Awaiting Vendor"], len(mids)))
        if k >= 2:
            times.append(resolve[i])
            status.append("Resolved")
        if k >= 3:
            times.append(resolve[i] + 5 * 15 * rng.uniform(0.8, 1.2))  # about a week later
            status.append("Closed")
        rows.extend((i, t, s, j) for j, (t, s) in enumerate(zip(times, status, strict=True)))
    inc, at, st, seq = zip(*rows, strict=True)
    return {"incident": np.array(inc), "at": np.array(at), "status": np.array(st),
            "seq": np.array(seq), "opened": opened, "respond": respond,
            "resolve": resolve, "extra": extra}  # fmt: skip


def _row(i: int, seq: int, status: str, p: int, group: int, caller: int,
         c: dict[str, np.ndarray], office: Callable[[float], str]) -> list[str]:  # fmt: skip
    """Incident ``i`` as its change ``seq`` left it, in the canonical issue record."""
    resolved = seq >= 2 and status in ("Resolved", "Closed")
    row = {
        "issue_id": f"INC{i:07d}",
        "lead_id": f"SN{caller:05d}",
        "raised_at": office(c["opened"][i]),
        "raised_by": f"Opened by {caller % 200}",
        "issue_type": PRIORITY_TYPE[p],
        "impact": PRIORITY_IMPACT[p],
        "summary": f"Group {group}: {p + 1} - priority incident",
        "customer_name": f"Caller {caller}",
        "customer_phone": f"+9198{caller:08d}",
        "device": f"Configuration item {group * 3}",
        "city": f"Location {group}",
        "status": status,
        "responded_at": office(c["respond"][i]) if seq >= 1 else "",
        "resolved_at": office(c["resolve"][i]) if resolved else "",
        "resolution": "Resolved by caller" if resolved else "",
        "no_escalation_reason": "",
        "team": "",  # routed by issue type: the shipped org lists no assignment group
        "sla_class": "",
    }
    return [row[f] for f in ISSUE_FIELDS]


def write_year(out: Path, incidents: int = INCIDENTS, hours: int = HOURS, seed: int = 7) -> int:
    """Write the hourly exports into ``out``; returns the number of files."""
    rng = np.random.default_rng(seed)
    slots = working_hours(hours)
    c = changes(incidents, hours, rng)
    priority = rng.choice(4, incidents, p=PRIORITY_SHARE)
    group = rng.integers(1, GROUPS + 1, incidents)
    caller = rng.integers(1, 5000, incidents)
    slot = np.floor(c["at"]).astype(int)
    keep = slot < hours  # changes after the year are never exported in it
    order = np.lexsort((c["seq"][keep], c["incident"][keep], slot[keep]))
    inc, sl, st, sq = (a[keep][order] for a in (c["incident"], slot, c["status"], c["seq"]))
    last = np.ones(len(inc), bool)  # the last change of an incident within its hour
    last[:-1] = (inc[1:] != inc[:-1]) | (sl[1:] != sl[:-1])

    def office(w: float) -> str:
        h = int(w)
        return (slots[h] + timedelta(hours=w - h)).strftime("%Y-%m-%d %H:%M:%S")

    out.mkdir(parents=True, exist_ok=True)
    files = 0
    bounds = np.flatnonzero(np.r_[True, sl[1:] != sl[:-1], True])
    for a, b in itertools.pairwise(bounds):
        h = int(sl[a])
        stamp = (slots[h] + timedelta(hours=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        with (out / f"issues_{stamp}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(ISSUE_FIELDS)
            for j in range(a, b):
                if not last[j]:  # an earlier change of the same hour: the file shows the last
                    continue
                i, seq, status = int(inc[j]), int(sq[j]), str(st[j])
                w.writerow(_row(i, seq, status, int(priority[i]), int(group[i]),
                                int(caller[i]), c, office))  # fmt: skip
        files += 1
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the hourly exports")
    ap.add_argument("--incidents", type=int, default=INCIDENTS)
    ap.add_argument("--hours", type=int, default=HOURS, help="working hours the year spans")
    args = ap.parse_args()
    print(write_year(args.out, args.incidents, args.hours), "files")


if __name__ == "__main__":
    main()
