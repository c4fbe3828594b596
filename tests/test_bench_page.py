"""The benchmark page's figures come from results.json: targets judged, the block replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.page import END, START, render, write


def test_targets_are_judged_and_runs_shown() -> None:
    block = render(
        {
            "full_tick_over_bare_read": 4.2,
            "noop_tick_s": 0.3,
            "noop_tick_runs_s": [0.3, 0.4],
            "replay_demo_week_s": 3.1,
            "replay_servicenow_year_s": 75.0,
            "a_later_benchmark_s": 2.5,
            "commit": "abc1234",
        }
    )
    assert "| `full_tick_over_bare_read` | 4.2 |" in block
    assert "<= 4: **missed**" in block
    assert "0.3 (runs 0.3, 0.4)" in block
    assert "< 1.5: met" in block
    assert "| `replay_demo_week_s` | 3.1 |" in block
    assert "< 60: **missed**" in block  # the replay targets are judged like the others
    assert "`a_later_benchmark_s` 2.5" in block  # a key without a row is still shown
    assert "commit `abc1234`" in block


def test_only_the_block_between_the_markers_is_replaced(tmp_path: Path) -> None:
    page = tmp_path / "b.md"
    page.write_text(f"intro\n{START}\nold figures\n{END}\nprose\n")
    write(page, {"noop_tick_s": 0.5})
    text = page.read_text()
    assert text.startswith("intro\n")
    assert text.endswith("\nprose\n")
    assert "old figures" not in text
    assert "| `noop_tick_s` | 0.5 |" in text
    page.write_text("no markers")
    with pytest.raises(SystemExit, match="no figures markers"):
        write(page, {})
