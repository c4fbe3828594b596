"""``make bench``: the tick at scale, measured in process.

1. A canonical snapshot of N leads (default 1M, about 5% open) is generated and loaded into an
   empty database (``initial_load_s``, no target).
2. A second snapshot differs from it in 5% of rows (new leads replacing the oldest closed ones,
   status changes, responses): one full tick over it (``full_tick_s``), then a tick five
   minutes later with no new export (``noop_tick_s``), and a bare DuckDB ``read_csv`` of the
   same file for scale (``bare_read_s``). Each is timed ``REPEATS`` times, the ticks from the
   same folded database, interleaved with the bare reads; the figures are medians.
3. The same rules evaluated row by row in plain Python over 100k open leads (what a team would
   write by hand) against the tick's set-based evaluation of those leads (``per_row_speedup``).

Results go to ``bench/out/results.json`` (later benchmarks add their keys to the same file).
Run: ``python -m bench.run [--leads N] [--open-leads N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bench import run_stamp
from leadsla.pipelines.load import discover_files, load_files
from leadsla.pipelines.tick import Ticker, decide
from leadsla.rules import load_rules
from leadsla.store import transaction

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 11:30 in Kolkata: inside office hours
FORMS = np.array(["contact_form", "booking", "audit_request", "service_inquiry",
                  "checklist_download", "guide_request", "implementation_request"])  # fmt: skip
OWNERS = np.array(["rahul", "sneha", "amit", "priya", "divya", "karan", "arjun"])
CLOSED = np.array(["qualified", "disqualified", "booked", "lost", "no_response"])


def snapshot(ids: np.ndarray, created: np.ndarray, status: np.ndarray, resp: np.ndarray,
             updated: np.ndarray, rng: np.random.Generator) -> pa.Table:  # fmt: skip
    """A canonical leads table: ISO timestamps with offsets, owners, statuses."""

    def iso(secs: np.ndarray) -> pa.Array:
        arr = pa.array(secs.astype("datetime64[s]"), pa.timestamp("s", "UTC"))
        return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ")

    resp_str = iso(np.where(resp > 0, resp, created))
    resp_str = pc.if_else(pa.array(resp > 0), resp_str, pa.scalar(None, pa.string()))
    return pa.table(
        {
            "lead_id": pa.array(np.char.add("L", ids.astype(str))),
            "created_at": iso(created),
            "email": pa.array(np.char.add(np.char.add("p", ids.astype(str)), "@example.com")),
            "form_type": pa.array(FORMS[(ids * 7919) % len(FORMS)]),
            "service_interest": pa.array(np.where(ids % 17 == 0, "", "seo")),
            "lead_source": pa.array(np.where(ids % 3 == 0, "google_ads", "organic")),
            "owner": pa.array(OWNERS[(ids * 31) % len(OWNERS)]),
            "status": pa.array(status),
            "first_response_at": resp_str,
            "updated_at": iso(updated),
            "lead_score": pa.array((ids * 37) % 100),  # a property of the lead, not of the export
        }
    )


def make_leads(n: int, open_share: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    t0 = int(T0.timestamp())
    ids = np.arange(1, n + 1)
    is_open = rng.random(n) < open_share
    # open leads arrived in the last two business days; closed ones over the last 90 days
    created = np.where(
        is_open,
        t0 - rng.integers(60, 2 * 86400, n),
        t0 - rng.integers(3 * 86400, 90 * 86400, n),
    )
    # lead ids grow with time, like CRM record ids; the open flag moves with its lead (sorting
    # the times alone left "open" leads scattered over the whole 90 days)
    order = np.argsort(created, kind="stable")
    created, is_open = created[order], is_open[order]
    resp = np.where(is_open, 0, np.minimum(created + rng.integers(120, 7200, n), t0 - 60))
    status = np.where(is_open, "new", CLOSED[rng.integers(0, len(CLOSED), n)])
    status = np.where(status == "no_response", "no_response", status)
    resp = np.where(status == "no_response", 0, resp)
    updated = np.minimum(np.maximum(created, resp) + 60, t0)  # nothing after the export
    return {"ids": ids, "created": created, "status": status, "resp": resp, "updated": updated}


def change(leads: dict[str, np.ndarray], share: float, rng: np.random.Generator,
           at: int) -> dict[str, np.ndarray]:  # fmt: skip
    """5% of rows differ: 2% new leads replace the oldest closed ones, 1.5% open leads get a
    response, 1.5% closed leads change status."""
    n = len(leads["ids"])
    out = {k: v.copy() for k, v in leads.items()}
    k_new, k_resp = int(n * share * 0.4), int(n * share * 0.3)
    k_stat = int(n * share) - k_new - k_resp
    closed_idx = np.flatnonzero(out["status"] != "new")
    oldest = closed_idx[:k_new]
    out["ids"][oldest] = np.arange(n + 1, n + 1 + k_new)
    out["created"][oldest] = at - rng.integers(60, 3600, k_new)
    out["status"][oldest] = "new"
    out["resp"][oldest] = 0
    out["updated"][oldest] = out["created"][oldest] + 30
    open_idx = np.flatnonzero(leads["status"] == "new")
    pick = rng.choice(open_idx, size=min(k_resp, len(open_idx)), replace=False)
    out["status"][pick] = "contacted"
    out["resp"][pick] = at - 300
    out["updated"][pick] = at - 300
    rest = np.setdiff1d(closed_idx[k_new:], pick)
    stat = rng.choice(rest, size=k_stat, replace=False)
    out["status"][stat] = np.where(out["status"][stat] == "qualified", "booked", "qualified")
    out["updated"][stat] = at - 120
    return out


def write(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path)


def settle() -> None:
    """Write out what earlier steps left in the page cache before a timed step: the kernel
    flushing a previous step's hundreds of megabytes would otherwise land in whichever step
    comes next (the bare read measured twice its time right after the first load)."""
    os.sync()
    time.sleep(1)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Timed repetitions of the full tick (each from the same folded database) and of the bare read,
#: interleaved: this machine's speed drifts by tens of percent over minutes, so the figures are
#: medians and the ratio compares runs taken side by side.
REPEATS = 3


def bare_read(path: Path) -> None:
    """What reading the snapshot costs DuckDB with nothing else to do: the scale for a tick."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE bare AS SELECT * FROM read_csv('{path}')")
    con.close()


def bench_tick(work: Path, n: int, rng: np.random.Generator) -> dict[str, Any]:
    exports = work / "exports"
    exports.mkdir(parents=True)
    db = work / "bench.duckdb"
    leads = make_leads(n, 0.05, rng)
    write(snapshot(**{k: leads[k] for k in ("ids", "created", "status", "resp", "updated")},
                   rng=rng), exports / f"leads_{T0:%Y%m%dT%H%M%SZ}.csv")  # fmt: skip
    out: dict[str, Any] = {"leads": n}
    with Ticker(rules_dir=REPO / "sla_rules", exports=str(exports), db=db) as t:
        settle()
        s = time.perf_counter()
        t.tick(T0, summary=False)
        # the first load is charged with folding its WAL into the file, as a CLI tick or a
        # flow task does when it closes the file; the timed ticks then start from a folded file
        t.store.con.execute("CHECKPOINT")
        out["initial_load_s"] = round(time.perf_counter() - s, 3)
    base = work / "base.duckdb"
    shutil.copy(db, base)
    t1 = T0 + timedelta(minutes=5)
    changed = change(leads, 0.05, rng, int(t1.timestamp()))
    path = exports / f"leads_{t1:%Y%m%dT%H%M%SZ}.csv"
    write(snapshot(**changed, rng=rng), path)
    runs: dict[str, list[float]] = {"full": [], "noop": [], "checkpoint": [], "bare": []}

    def timed(key: str, fn: Callable[[], object]) -> None:
        settle()
        s = time.perf_counter()
        fn()
        runs[key].append(round(time.perf_counter() - s, 3))

    for _ in range(REPEATS):
        shutil.copy(base, db)
        timed("bare", lambda: bare_read(path))
        with Ticker(rules_dir=REPO / "sla_rules", exports=str(exports), db=db) as t:
            timed("full", lambda: t.tick(t1 + timedelta(seconds=1), summary=False))
            timed("noop", lambda: t.tick(t1 + timedelta(minutes=5), summary=False))
            # ticks commit to the WAL; folding it into the file happens past a size or at close
            # (DuckDBStore), so it is timed on its own rather than charged to the tick
            timed("checkpoint", lambda: t.store.con.execute("CHECKPOINT"))
            out["open_leads"] = int(
                t.store.con.execute(
                    "SELECT count(*) FROM lead_state WHERE responded_seen_at IS NULL "
                    "AND closed_seen_at IS NULL"
                ).fetchall()[0][0]
            )
    for key, name in (("full", "full_tick_s"), ("noop", "noop_tick_s"),
                      ("checkpoint", "checkpoint_s"), ("bare", "bare_read_s")):  # fmt: skip
        out[name] = statistics.median(runs[key])
        out[f"{name[:-2]}_runs_s"] = runs[key]
    out["full_tick_over_bare_read"] = round(out["full_tick_s"] / out["bare_read_s"], 2)
    return out


def bench_per_row(work: Path, n_open: int, rng: np.random.Generator) -> dict[str, Any]:
    """n_open open leads, evaluated by the tick and by a per-row Python loop doing the same
    decisions and writing the same step events (what a team would write by hand).

    Two passes are timed. The *first pass* meets every lead for the first time (the tick also
    classifies, assigns and logs receipt; the loop only computes deadlines and steps, so it is
    flattered). The *steady tick* is the job every 5 minutes in production: five minutes
    later, decide which steps crossed their threshold since the last tick across all open
    leads and record them; ``per_row_speedup`` is that ratio."""
    exports = work / "exports_open"
    exports.mkdir(parents=True)
    db = work / "open.duckdb"
    ids = np.arange(1, n_open + 1)
    t0 = int(T0.timestamp())
    created = t0 - rng.integers(60, 2 * 86400, n_open)
    write(snapshot(ids, created, np.full(n_open, "new"), np.zeros(n_open, dtype=np.int64),
                   created + 30, rng), exports / f"leads_{T0:%Y%m%dT%H%M%SZ}.csv")  # fmt: skip
    rules = load_rules(REPO / "sla_rules")
    first, steady = T0 + timedelta(minutes=1), T0 + timedelta(minutes=6)
    with Ticker(rules_dir=REPO / "sla_rules", exports=str(exports), db=db) as t:
        load_files(t.store, discover_files(t.store.con, rules, str(exports), first), first)
        timings = {}
        for label, now in (("first", first), ("steady", steady)):
            with transaction(t.store) as con:
                s = time.perf_counter()
                res = decide(con, rules, now, loaded=label == "first")
                timings[label] = (time.perf_counter() - s, res["step_events"])
        rows = t.store.con.execute(
            "SELECT lead_id, created_at, policy_id, owner, team FROM lead_state "
            "WHERE responded_seen_at IS NULL AND closed_seen_at IS NULL"
        ).fetchall()
        _ = rules.business_calendars
        s = time.perf_counter()
        py_first = per_row_python(t.store.con, rules, rows, None, first)
        py_first_s = time.perf_counter() - s
        s = time.perf_counter()
        py_steady = per_row_python(t.store.con, rules, rows, first, steady)
        py_steady_s = time.perf_counter() - s
    return {
        "per_row_leads": n_open,
        "per_row_python_s": round(py_steady_s, 3),
        "per_row_tick_eval_s": round(timings["steady"][0], 3),
        "per_row_speedup": round(py_steady_s / timings["steady"][0], 1),
        "per_row_steps": [py_steady, timings["steady"][1]],
        "per_row_first_pass_python_s": round(py_first_s, 3),
        "per_row_first_pass_tick_eval_s": round(timings["first"][0], 3),
        "per_row_first_pass_speedup": round(py_first_s / timings["first"][0], 1),
        "per_row_first_pass_steps": [py_first, timings["first"][1]],
    }


def per_row_python(
    con: duckdb.DuckDBPyConnection,
    rules: Any,
    rows: list[tuple[Any, ...]],
    since: datetime | None,
    now: datetime,
) -> int:
    """The loop a team would write by hand: for each open lead, its deadline and each step's
    threshold on the business calendar; each step that crossed its threshold in
    ``(since, now]`` becomes an event row (content id, JSON details), appended to a table."""
    out: dict[str, list[Any]] = {k: [] for k in ("event_id", "lead_id", "step", "at", "details")}
    for lead_id, created, policy_id, owner, team in rows:
        if policy_id is None:
            continue
        p = rules.policies[policy_id]
        version = rules.policy_version(policy_id)
        cal = rules.business_calendars[p.calendar]
        if p.deadline.within_minutes is not None:
            deadline = cal.add_business_minutes(created, p.deadline.within_minutes)
        else:
            deadline = cal.end_of_business_day(created)
        steps = [(s.id, s.base, s.offset_minutes) for s in p.steps] + [("deadline", "due", 0.0)]
        for step_id, base, offset in steps:
            start = created if base == "start" else deadline
            threshold = max(created, cal.add_business_minutes(start, offset))
            if threshold > now or (since is not None and threshold <= since):
                continue
            key = "|".join((lead_id, policy_id, version, "0", step_id))
            out["event_id"].append(hashlib.md5(key.encode()).hexdigest())
            out["lead_id"].append(lead_id)
            out["step"].append(step_id)
            out["at"].append(threshold)
            out["details"].append(
                json.dumps(
                    {
                        "step": step_id,
                        "hop": 0,
                        "policy_version": version,
                        "rules_version": rules.version,
                        "threshold_at": threshold.isoformat(),
                        "due_at": deadline.isoformat(),
                        "clock_started_at": created.isoformat(),
                        "business_minutes": round(cal.business_minutes(created, threshold), 2),
                        "owner": owner,
                        "team": team,
                    }
                )
            )
    con.register("py_events_arrow", pa.table(out))
    con.execute("CREATE OR REPLACE TEMP TABLE py_events AS SELECT * FROM py_events_arrow")
    con.unregister("py_events_arrow")
    return len(out["event_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--open-leads", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    results: dict[str, Any] = {}
    path = OUT / "results.json"
    if path.exists():
        results.update(json.loads(path.read_text()))
    results.update(bench_tick(work, args.leads, rng))
    results.update(bench_per_row(work, args.open_leads, rng))
    results["peak_rss_mb"] = round(rss_mb(), 1)
    results["measured_at"] = f"{os.cpu_count()}-core machine, in process, DuckDB file on local disk"
    results["date"], results["commit"] = run_stamp()
    path.write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
