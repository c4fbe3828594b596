"""The command line as an operator meets it: every option explained, every command with an
example, a missing exports folder an error that names it, files left for later said out loud,
output piped into ``head`` ending quietly, and progress drawn only on a terminal."""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadsla.cli import build_parser

from .conftest import LEAD_ROW as ROW
from .conftest import WriteLeads

LEADSLA = str(Path(sys.executable).parent / "leadsla")
NOW = "2026-11-23T06:00:00Z"


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every (sub)command's parser, depth first."""
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += _parsers(sub)
    return out


def test_every_option_has_help_and_every_command_an_example() -> None:
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if action.option_strings:
                assert action.help, f"{parser.prog} {action.option_strings} has no help text"
        runs = parser.get_default("func") is not None
        if runs:
            epilog = parser.epilog or ""
            assert "example:" in epilog, parser.prog
            assert parser.prog.split()[-1] in epilog, parser.prog


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSLA_")}
    return subprocess.run(
        [LEADSLA, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.mark.slow
def test_a_missing_exports_folder_is_exit_2_naming_the_path(
    rules_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such"
    res = _cli(
        "tick",
        "--rules",
        str(rules_dir),
        "--exports",
        str(missing),
        "--db",
        str(tmp_path / "t.duckdb"),
        "--now",
        NOW,
        cwd=tmp_path,
    )
    assert res.returncode == 2
    assert str(missing) in res.stderr
    assert "does not exist" in res.stderr
    assert "Traceback" not in res.stderr
    not_a_folder = tmp_path / "file.csv"
    not_a_folder.write_text("x\n")
    res = _cli(
        "tick",
        "--rules",
        str(rules_dir),
        "--exports",
        str(not_a_folder),
        "--db",
        str(tmp_path / "t.duckdb"),
        "--now",
        NOW,
        cwd=tmp_path,
    )
    assert (res.returncode, "is not a folder" in res.stderr) == (2, True)


@pytest.mark.slow
def test_files_dated_after_now_are_named_and_the_dating_rule_said(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    write_leads("20261123T050000Z", [ROW])  # before now: loaded
    write_leads("20261124T050000Z", [{**ROW, "lead_id": "L2"}])  # a day after now: later
    unstamped = write_leads("", [{**ROW, "lead_id": "L3"}], name="leads_nostamp")
    future = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(unstamped, (future, future))  # dated by its modification time: after now
    args = [
        "tick",
        "--rules",
        str(rules_dir),
        "--exports",
        str(exports),
        "--db",
        str(tmp_path / "t.duckdb"),
        "--now",
        NOW,
    ]
    res = _cli(*args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "2 file(s) left for a later tick" in res.stdout
    assert "leads_20261124T050000Z.csv (2026-11-24T05:00:00Z)" in res.stdout
    assert f"{unstamped.name} (2026-12-01T00:00:00Z, by its modification time)" in res.stdout
    data = json.loads(_cli(*args, "--json", cwd=tmp_path).stdout)
    assert {f["name"]: f["dated_by"] for f in data["files_left_for_later"]} == {
        "leads_20261124T050000Z.csv": "filename",
        unstamped.name: "mtime",
    }


@pytest.mark.slow
def test_output_into_a_closed_pipe_ends_quietly(rules_dir: Path, tmp_path: Path) -> None:
    """`leadsla ... | head` where head has already gone: no BrokenPipeError traceback."""
    proc = subprocess.Popen(
        [LEADSLA, "check", "--rules", str(rules_dir), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err
    assert "BrokenPipe" not in err


def _replay_stderr(rules_dir: Path, exports: Path, db: Path, *, tty: bool, json_: bool) -> str:
    args = [
        LEADSLA,
        "replay",
        "--rules",
        str(rules_dir),
        "--exports",
        str(exports),
        "--db",
        str(db),
        "--from",
        "2026-11-23T04:00:00Z",
        "--to",
        NOW,
        "--every",
        "30m",
    ]
    if json_:
        args.append("--json")
    if not tty:
        return subprocess.run(args, capture_output=True, text=True, check=True).stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tty", "json_", "drawn"),
    [
        (True, False, True),  # an operator at a terminal sees what is done and how far
        (False, False, False),  # a pipe or a log file gets no bar
        (True, True, False),  # --json is for programs, on a terminal too
    ],
)
def test_replay_draws_progress_only_on_a_terminal(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    write_leads: WriteLeads,
    tty: bool,
    json_: bool,
    drawn: bool,
) -> None:
    write_leads("20261123T050000Z", [ROW])
    err = _replay_stderr(rules_dir, exports, tmp_path / "r.duckdb", tty=tty, json_=json_)
    assert ("ticks every 0:30:00" in err and "5/5" in err) is drawn, err
