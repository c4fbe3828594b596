"""Shared fixtures: a private copy of the shipped rules and helpers to write exports."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO = Path(__file__).resolve().parent.parent

LEAD_HEADER = [
    "lead_id", "created_at", "name", "email", "phone", "lead_source", "form_type",
    "service_interest", "message", "city", "owner", "status", "first_response_at", "updated_at",
]  # fmt: skip


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A copy of sla_rules/ that a test may edit."""
    dst = tmp_path / "sla_rules"
    shutil.copytree(REPO / "sla_rules", dst)
    return dst


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    d = tmp_path / "exports"
    d.mkdir()
    return d


WriteLeads = Callable[..., Path]


@pytest.fixture
def write_leads(exports: Path) -> WriteLeads:
    """Write a canonical leads CSV: rows are dicts over LEAD_HEADER (missing keys empty)."""

    def write(stamp: str, rows: Sequence[dict[str, str]], name: str = "leads") -> Path:
        path = exports / f"{name}_{stamp}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=LEAD_HEADER)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in LEAD_HEADER})
        return path

    return write
