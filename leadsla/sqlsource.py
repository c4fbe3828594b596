"""A database as a lead source: any SQLAlchemy URL plus a query, turned into export files.

A source with ``sql:`` (instead of ``glob:``) is pulled at the start of a live tick: the query
runs once, its rows are written as a Parquet snapshot named ``<source id>_<now>.parquet``
under ``<exports>/_sql/``, and from there on it is an export like any other file. That keeps
one path for everything that follows (manifest by checksum, quarantine with line numbers,
set-wise diff, export time from the file name, replays over the archived snapshots). A pull
whose rows are identical to the previous snapshot writes nothing, so a quiet database costs a
query per tick and no storage.

The URL comes from the environment variable the source names (``url_env``), never from the
rule files: it usually holds a password. Replays do not pull: they read the snapshots that
live ticks archived.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from leadsla.rules.source_models import Source

#: Folder under the exports root where database snapshots are written.
SNAPSHOT_DIR = "_sql"


@dataclass(frozen=True)
class PullResult:
    source_id: str
    status: str  # written | unchanged | not_due | failed
    path: str | None = None
    rows: int = 0
    reason: str | None = None


def snapshot_name(source: Source, now: datetime) -> str:
    return f"{source.id}_{now:%Y%m%dT%H%M%SZ}.parquet"


def _text(value: object) -> str | None:
    """Every column as text, like a CSV export: the source's mapping types it later."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def query_table(url: str, query: str) -> pa.Table:
    """Run ``query`` against ``url`` and return its rows with every column as text."""
    from sqlalchemy import create_engine, text  # imported here: only SQL sources need it

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execute(text(query))
            names = list(result.keys())
            rows = result.fetchall()
    finally:
        engine.dispose()
    columns = {n: pa.array([_text(r[i]) for r in rows], pa.string()) for i, n in enumerate(names)}
    return pa.table(columns) if columns else pa.table({})


def pull(
    sources: Iterable[Source], exports: str, now: datetime, env: Mapping[str, str]
) -> list[PullResult]:
    """Snapshot every SQL source that is due (``export_every_minutes`` since its newest
    snapshot). A failure (missing URL variable, unreachable database, bad query) is returned
    with its reason, never raised: the files of other sources still load."""
    fs, root = fsspec.core.url_to_fs(exports)
    folder = f"{root.rstrip('/')}/{SNAPSHOT_DIR}"
    out: list[PullResult] = []
    for source in sources:
        if source.sql is None:
            continue
        url = env.get(source.sql.url_env)
        if not url:
            out.append(
                PullResult(
                    source.id,
                    "failed",
                    reason=f"environment variable {source.sql.url_env} (sources: sql.url_env) "
                    "is not set; set it to the database's SQLAlchemy URL",
                )
            )
            continue
        previous = sorted(
            p for p in (fs.glob(f"{folder}/{source.id}_*.parquet") if fs.exists(folder) else [])
        )
        if previous:
            newest = previous[-1].rsplit("/", 1)[-1]
            stamp = datetime.strptime(
                newest.removeprefix(f"{source.id}_").removesuffix(".parquet"), "%Y%m%dT%H%M%SZ"
            ).replace(tzinfo=now.tzinfo)
            if now - stamp < timedelta(minutes=source.sql.export_every_minutes):
                out.append(PullResult(source.id, "not_due"))
                continue
        try:
            table = query_table(url, source.sql.query)
        except Exception as exc:  # any driver error: recorded, the tick goes on
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            out.append(PullResult(source.id, "failed", reason=f"query failed: {first}"))
            continue
        buf = io.BytesIO()
        pq.write_table(table, buf)
        data = buf.getvalue()
        if previous:
            with fs.open(previous[-1], "rb") as fh:
                if hashlib.blake2b(fh.read()).digest() == hashlib.blake2b(data).digest():
                    out.append(PullResult(source.id, "unchanged", rows=table.num_rows))
                    continue
        fs.makedirs(folder, exist_ok=True)
        path = f"{folder}/{snapshot_name(source, now)}"
        tmp = f"{path}.tmp"
        with fs.open(tmp, "wb") as fh:
            fh.write(data)
        fs.mv(tmp, path)  # discovery never sees a half-written snapshot
        out.append(PullResult(source.id, "written", path=path, rows=table.num_rows))
    return out
