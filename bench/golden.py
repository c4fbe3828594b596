"""The demo's event log and outbox as canonical CSVs, with one digest: a refactoring check.

Run it before and after a change that must not change behaviour and compare the digests (or
``diff`` the CSVs): ``python -m bench.golden --out /tmp/golden-before``. The demo's week is
replayed from scratch (no review, no delivery), so the output depends only on the code and the
shipped rules. Rows are sorted by their stable ids; JSON details are re-serialised with sorted
keys so that key order inside a JSON value does not count as a difference, and the folder the
demo was written to is replaced by ``<demo>`` (events name their export files). The id of a
``row_quarantined`` event hashes the file's path, so it is written as ``<path-dependent>`` and
rows are sorted by their canonical text.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb

from leadsla_demo import run_demo

TABLES = {"sla_events": "event_id", "outbox": "message_id"}
JSON_COLUMNS = {"details", "payload"}


def _canonical(name: str, value: Any, home: str) -> str:
    if value is None:
        return "\\N"
    if name in JSON_COLUMNS:
        value = json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"))
    return str(value).replace(home, "<demo>")


def dump(db: Path, out: Path) -> dict[str, str]:
    """Write each table to ``out/<table>.csv`` sorted by its id; return table -> sha256.
    The demo's folder is the database's."""
    home = str(db.resolve().parent)
    digests = {}
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        for table, key in TABLES.items():
            cur = con.execute(f"SELECT * FROM {table} ORDER BY {key}")
            names = [d[0] for d in cur.description or []]
            rows = []
            for row in cur.fetchall():
                cells = [_canonical(n, v, home) for n, v in zip(names, row, strict=True)]
                if table == "sla_events" and cells[1] == "row_quarantined":
                    cells[0] = "<path-dependent>"
                rows.append(cells)
            path = out / f"{table}.csv"
            with path.open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(names)
                w.writerows(sorted(rows))
            digests[table] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the demo and the CSVs")
    ap.add_argument("--rules", type=Path, default=Path("sla_rules"), help="rules folder")
    ap.add_argument("--db", type=Path, help="dump this event log instead of replaying the demo")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.db or run_demo(out=args.out / "demo", rules_dir=args.rules, report=False).db
    digests = dump(db, args.out)
    (args.out / "digests.json").write_text(json.dumps(digests, indent=2) + "\n")
    for table, digest in digests.items():
        print(f"{table}: {digest}")


if __name__ == "__main__":
    main()
