"""The intake writer: an issue raised through ``leadsla issue raise`` becomes a one-row export."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from leadsla.rules.records import ISSUE_FIELDS


def write_issue(exports: str, record: dict[str, Any], now: datetime) -> str:
    """An issue raised by an agent or an integration (``leadsla issue raise``), written as a
    one-row canonical ``issues_<now>_raised_<id>.jsonl`` export: it then goes through exactly
    the validation, events and ladder of exported issues, and the exports folder stays the
    one record of what came in. Written under a temporary name and renamed, so a tick never
    reads half a file. Returns the file's URL."""
    import fsspec

    row = {f: record.get(f) for f in ISSUE_FIELDS}
    row["raised_at"] = row["raised_at"] or now.isoformat()
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(row["issue_id"]))
    fs, root = fsspec.core.url_to_fs(exports)
    fs.makedirs(root, exist_ok=True)
    path = f"{root.rstrip('/')}/issues_{now:%Y%m%dT%H%M%SZ}_raised_{safe}.jsonl"
    with fs.open(path + ".part", "w") as fh:
        fh.write(json.dumps(row, default=str) + "\n")
    fs.mv(path + ".part", path)
    return path
