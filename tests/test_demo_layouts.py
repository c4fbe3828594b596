"""The demo's CRM exports are laid out by the shipped source presets, not by a copy of them:
edit a preset and the demo writes the new layout, which the loader then reads cleanly."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from leadsla.pipelines.tick import run_tick
from leadsla.rules import load_rules
from leadsla_demo import WEEK_START, generate_leads, write_exports
from leadsla_demo.exports import Layout, shipped_sources

from .conftest import REPO


def _header(path: Path, encoding: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as fh:
        return next(csv.reader(fh))


def test_the_shipped_layouts_are_the_presets_columns() -> None:
    for source in shipped_sources(REPO / "sla_rules"):
        layout = Layout.of(source)
        mapped = {c for v in source.columns.values() for c in ([v] if isinstance(v, str) else v)}
        # every column written is a column the preset reads, each once
        assert set(layout.header) == mapped
        assert len(layout.header) == len(set(layout.header))


@pytest.mark.slow
def test_an_edited_preset_changes_the_demo_files_and_the_loader_reads_them(
    rules_dir: Path, tmp_path: Path
) -> None:
    hs_path, sf_path = (
        rules_dir / "sources" / "hubspot.yaml",
        rules_dir / "sources" / "salesforce.yaml",
    )
    hs, sf = yaml.safe_load(hs_path.read_text()), yaml.safe_load(sf_path.read_text())
    hs["columns"]["email"] = "E-mail Address"
    hs["datetime_format"] = "%d.%m.%Y %H:%M:%S"
    sf["columns"]["owner"] = "Owner Alias"
    sf["timezone"] = "UTC"
    sf["datetime_format"] = "%Y/%m/%d %H:%M"
    hs_path.write_text(yaml.safe_dump(hs))
    sf_path.write_text(yaml.safe_dump(sf))
    rules = load_rules(rules_dir)
    cal = rules.business_calendars[rules.org.default_calendar]
    monday = WEEK_START + timedelta(days=1)
    leads = [ld for ld in generate_leads(cal) if ld.created_at < monday]
    out = tmp_path / "exports"
    assert write_exports(leads, out, rules.sources) > 0

    hs_file = sorted(out.glob("hubspot_*.csv"))[0]
    sf_file = sorted(out.glob("salesforce_*.csv"))[0]
    assert "E-mail Address" in _header(hs_file, "utf-8")
    assert "Owner Alias" in _header(sf_file, "latin-1")
    # the new date formats are the ones written
    with hs_file.open(encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert re.fullmatch(r"\d\d\.\d\d\.2026 \d\d:\d\d:\d\d", first["Create Date"])

    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(out), db=db, now=monday + timedelta(hours=1))
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = {r[0] for r in con.execute("SELECT lead_id FROM lead_state").fetchall()}
        reasons = con.execute("SELECT DISTINCT reason FROM quarantine").fetchall()
    # every generated lead loaded under the edited presets; only the demo's one broken row
    # (HS-BROKEN, an unreadable create date) is quarantined
    assert loaded == {ld.lead_id for ld in leads}
    assert len(reasons) <= 1


def test_a_status_label_the_preset_cannot_read_is_refused(rules_dir: Path) -> None:
    path = rules_dir / "sources" / "hubspot.yaml"
    preset = yaml.safe_load(path.read_text())
    del preset["status_map"]["CONNECTED"]
    path.write_text(yaml.safe_dump(preset))
    (hs,) = [s for s in load_rules(rules_dir).sources if s.id == "hubspot"]
    with pytest.raises(ValueError, match=r"sources/hubspot\.yaml status_map lacks \['CONNECTED'\]"):
        Layout.of(hs)
