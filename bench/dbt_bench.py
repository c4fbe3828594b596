"""``make bench`` (after bench/run.py): the review's dbt build over a 10M-event log.

A tick-shaped database is generated in SQL (1M leads, 10 events each, details JSON like the
tick's) and snapshotted into a warehouse. Timed, in process, each on its own:

- ``dbt_parse_s``: importing dbt and parsing the project (no partial-parse file yet: a first
  run). Every build after it is handed that manifest, as the review's builds are.
- ``dbt_full_s``: the first build (models and data tests, as the review builds).
- ``dbt_incremental_s``: after one tick's worth of new events (2,000) is appended and
  snapshotted, the next build; the median of ``INCREMENTAL_RUNS`` such tick-and-build rounds
  in a row (every run in ``dbt_incremental_runs_s``: this shared machine's speed varies by a
  third from one minute to the next, so one run says little).
- ``dbt_parse_partial_s``: importing dbt and parsing in a new process (the next day's review)
  with the ``partial_parse.msgpack`` the first parse left in the target folder.
- ``dbt_full_with_unit_tests_s``: the first build again, with the unit tests (as the test suite
  and CI build), on a copy of the same snapshot.

All are merged into ``bench/out/results.json`` without touching the keys other benchmarks
wrote; per-node timings go to ``bench/out/dbt_bench_nodes.json``.
Run: ``python -m bench.dbt_bench [--events N]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from leadsla import warehouse
from leadsla.store import SCHEMA_DDL

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
T0 = datetime(2026, 11, 2, 3, 30, tzinfo=UTC)
TYPES = [
    "lead_received", "intent_classified", "lead_assigned", "task_created", "reminder_sent",
    "escalated", "reassigned", "first_response", "sla_met", "outcome_logged",
]  # fmt: skip


def generate(db: Path, events: int) -> datetime:
    """Write lead_state and ``events`` events (10 per lead) into a fresh tick database."""
    leads = events // len(TYPES)
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'UTC'")
    for ddl in SCHEMA_DDL:
        con.execute(ddl)
    con.execute(
        f"""
        INSERT INTO lead_state (lead_id, source_id, created_at, lead_source, service_interest,
            crm_status, status_class, record_url, first_seen_at, last_export_at, response_at,
            outcome, outcome_at, closed_seen_at, intent, policy_id, team, owner, due_at)
        SELECT 'L' || i, 'hubspot', c, ['google_ads','referral','webinar','website'][i % 4 + 1],
               ['seo','ppc','crm_implementation'][i % 3 + 1], 'x', 'open',
               'https://crm.example/L' || i, c, c,
               CASE WHEN i % 5 <> 0 THEN c + INTERVAL (i % 40) MINUTE END,
               CASE WHEN i % 3 = 0 THEN 'qualified' WHEN i % 7 = 0 THEN 'booked' END,
               CASE WHEN i % 3 = 0 OR i % 7 = 0 THEN c + INTERVAL 2 HOUR END,
               CASE WHEN i % 3 = 0 OR i % 7 = 0 THEN c + INTERVAL 2 HOUR END,
               ['high','mid','low'][i % 3 + 1], ['high_first_response','mid_same_day',
               'low_nurture'][i % 3 + 1], ['inbound','solutions','support'][i % 3 + 1],
               ['rahul','sneha','amit','divya','karan'][i % 5 + 1], c + INTERVAL 15 MINUTE
        FROM (SELECT i, $t0 + to_seconds(i * 2) AS c FROM range({leads}) t(i))
        """,
        {"t0": T0},
    )
    con.execute(
        f"""
        INSERT INTO sla_events
        SELECT md5(l.lead_id || k), ($types)[k + 1], l.lead_id, NULL,
               l.created_at + INTERVAL (k * 3) MINUTE, l.created_at + INTERVAL (k * 3 + 5) MINUTE,
               l.policy_id || '.' || k, l.policy_id, CASE WHEN k = 5 THEN 1 END, l.owner,
               l.owner, json_object('step', 's' || k, 'hop', 0, 'team', l.team,
                   'business_minutes', k * 3.0, 'export_lag_minutes', 2.5,
                   'lead_source', l.lead_source, 'record_url', l.record_url,
                   'threshold_at', l.created_at, 'due_at', l.due_at)
        FROM lead_state l, range({len(TYPES)}) t(k)
        """,
        {"types": TYPES},
    )
    last = con.execute("SELECT max(recorded_at) FROM sla_events").fetchall()[0][0]
    con.execute("INSERT INTO tick_log (now, recorded_at) VALUES ($t, $t)", {"t": last})
    con.close()
    assert isinstance(last, datetime)
    return last


#: incremental builds timed (each after its own tick); the figure is their median
INCREMENTAL_RUNS = 5


def one_tick(db: Path, now: datetime, n: int = 2000) -> None:
    """Append one tick's worth of step events (all recorded at ``now``; ids unique per tick)."""
    con = duckdb.connect(str(db))
    con.execute(
        f"""
        INSERT INTO sla_events
        SELECT md5('tick' || $now || '|' || i), 'reminder_sent', 'L' || i, NULL, $now, $now,
               'r', 'p', NULL, 'rahul', 'rahul',
               json_object('step', 'reminder', 'team', 'inbound')
        FROM range({n}) t(i)
        """,
        {"now": now},
    )
    con.execute("INSERT INTO tick_log (now, recorded_at) VALUES ($t, $t)", {"t": now})
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--keep", action="store_true", help="keep bench/out/dbt_bench (warehouse)")
    args = ap.parse_args()
    work = OUT / "dbt_bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, wh = work / "leadsla.duckdb", work / "warehouse" / "warehouse.duckdb"
    t = time.perf_counter()
    last = generate(db, args.events)
    gen_s = time.perf_counter() - t
    variables = warehouse.dbt_vars(
        as_of=last + timedelta(minutes=5), org_timezone="Asia/Kolkata", policy_windows={}
    )
    t = time.perf_counter()
    warehouse.snapshot(db, wh)
    snap_s = time.perf_counter() - t
    # the same snapshot, for the build with unit tests after the timed ones
    wh_unit = work / "with_unit_tests" / "warehouse.duckdb"
    wh_unit.parent.mkdir()
    shutil.copyfile(wh, wh_unit)
    t = time.perf_counter()
    warehouse.parse(wh)
    parse_s = time.perf_counter() - t
    t = time.perf_counter()
    full = warehouse.build(wh, variables)
    full_s = time.perf_counter() - t
    assert full.ok, full.failures
    assert not any(n.startswith("unit_test.") for n in full.statuses)
    full_nodes = node_timings(wh)
    inc_runs: list[tuple[float, float, dict[str, float]]] = []  # build s, snapshot s, nodes
    for i in range(1, INCREMENTAL_RUNS + 1):
        now = last + timedelta(minutes=5 * i)
        one_tick(db, now)
        t = time.perf_counter()
        copied = warehouse.snapshot(db, wh)
        snap_inc_s = time.perf_counter() - t
        inc_variables = {**variables, "as_of": (now + timedelta(minutes=1)).isoformat()}
        t = time.perf_counter()
        inc = warehouse.build(wh, inc_variables)
        inc_s = time.perf_counter() - t
        assert inc.ok, inc.failures
        inc_runs.append((inc_s, snap_inc_s, node_timings(wh)))
    inc_s, _, inc_nodes = sorted(inc_runs, key=lambda r: r[0])[len(inc_runs) // 2]
    snap_inc_s = statistics.median(r[1] for r in inc_runs)
    parse_partial_s = parse_in_new_process(wh)
    warehouse.parse(wh_unit)
    t = time.perf_counter()
    with_unit = warehouse.build(wh_unit, variables, unit_tests=True)
    full_unit_s = time.perf_counter() - t
    assert with_unit.ok, with_unit.failures
    assert sum(n.startswith("unit_test.") for n in with_unit.statuses) >= 5
    unit_nodes = node_timings(wh_unit, kind="unit_test")
    results_path = OUT / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results.update(
        {
            "dbt_events": args.events,
            "dbt_generate_s": round(gen_s, 2),
            "dbt_snapshot_full_s": round(snap_s, 2),
            "dbt_parse_s": round(parse_s, 2),
            "dbt_full_s": round(full_s, 2),
            "dbt_snapshot_incremental_s": round(snap_inc_s, 2),
            "dbt_incremental_events": copied["sla_events"],
            "dbt_incremental_s": round(inc_s, 2),
            "dbt_incremental_runs_s": [round(r[0], 2) for r in inc_runs],
            "dbt_parse_partial_s": round(parse_partial_s, 2),
            "dbt_full_with_unit_tests_s": round(full_unit_s, 2),
        }
    )
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k.startswith("dbt_")}, indent=2))
    (OUT / "dbt_bench_nodes.json").write_text(
        json.dumps(
            {"full": full_nodes, "incremental": inc_nodes, "unit_tests": unit_nodes}, indent=2
        )
        + "\n"
    )
    for label, nodes in (
        ("full", full_nodes),
        ("incremental", inc_nodes),
        ("full with unit tests, its unit tests", unit_nodes),
    ):
        print(f"slowest nodes, {label} build (s):")
        for name, secs in list(nodes.items())[:12]:
            print(f"  {secs:7.2f}  {name}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def parse_in_new_process(wh: Path) -> float:
    """Seconds a new process takes to import dbt and parse the project for ``wh``, reading the
    partial-parse file an earlier parse left beside it (as the next day's review does)."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from leadsla import warehouse\n"
        "t = time.perf_counter()\n"
        "warehouse.parse(Path(sys.argv[1]))\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(wh)], cwd=REPO, check=True, capture_output=True, text=True
    )
    return float(out.stdout.split()[-1])


def node_timings(wh: Path, kind: str | None = None) -> dict[str, float]:
    """Seconds per dbt node of the last invocation (run_results.json), slowest first: where a
    build's time goes. ``kind`` keeps one resource type (``unit_test``, ``model``, ...)."""
    path = warehouse.target_path(wh) / "run_results.json"
    rows = json.loads(path.read_text())["results"]
    timings = {
        r["unique_id"].split(".", 1)[1]: round(r["execution_time"], 2)
        for r in rows
        if kind is None or r["unique_id"].startswith(f"{kind}.")
    }
    return dict(sorted(timings.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    main()
