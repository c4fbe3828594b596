"""One settings object, one precedence: a flag (or flow parameter) beats ``LEADSLA_*``, which
beats ``leadsla.toml`` (or the file ``LEADSLA_CONFIG`` names), which beats the default; the
CLI and every flow resolve through it, and a bad setting is one sentence, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.settings import Settings, SettingsInvalid, load_settings

LEADSLA = str(Path(sys.executable).parent / "leadsla")
FIELDS = ["rules", "exports", "db", "home"]
DEFAULTS = {"rules": "sla_rules", "exports": "exports", "db": "leadsla.duckdb", "home": "."}
#: path-like values; quotes and backslashes are left out only to keep the TOML writer trivial
VALUES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='"\\', exclude_categories=["Cc"]),
    min_size=1,
    max_size=12,
).filter(lambda v: v.strip() == v and v)


@contextmanager
def _world(env: dict[str, str], toml: dict[str, str] | None) -> Iterator[None]:
    """A working directory with (or without) leadsla.toml and exactly ``env`` as LEADSLA_*."""
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("LEADSLA_")}
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory() as d:
        if toml is not None:
            body = "".join(f'{k} = "{v}"\n' for k, v in toml.items())
            (Path(d) / "leadsla.toml").write_text(body, encoding="utf-8")
        for k in saved_env:
            del os.environ[k]
        os.environ.update({f"LEADSLA_{k.upper()}": v for k, v in env.items()})
        os.chdir(d)
        try:
            yield
        finally:
            os.chdir(cwd)
            for k in [k for k in os.environ if k.startswith("LEADSLA_")]:
                del os.environ[k]
            os.environ.update(saved_env)


@settings(max_examples=60, deadline=None)
@given(
    flags=st.dictionaries(st.sampled_from(FIELDS), VALUES),
    env=st.dictionaries(st.sampled_from(FIELDS), VALUES),
    file=st.one_of(st.none(), st.dictionaries(st.sampled_from(FIELDS), VALUES)),
)
def test_flag_beats_environment_beats_file_beats_default(
    flags: dict[str, str], env: dict[str, str], file: dict[str, str] | None
) -> None:
    with _world(env, file):
        got = load_settings(**flags)
    for name in FIELDS:
        expected = flags.get(name) or env.get(name) or (file or {}).get(name) or DEFAULTS[name]
        assert getattr(got, name) == expected, name


def test_an_empty_flag_or_variable_counts_as_not_given() -> None:
    with _world({"db": ""}, {"db": "from-file.duckdb"}):
        assert load_settings(db="").db == "from-file.duckdb"
        assert load_settings(db=None).db == "from-file.duckdb"


def test_other_leadsla_variables_are_not_settings_errors() -> None:
    # secrets and test hooks share the prefix; only the file's keys are checked strictly
    with _world({"smtp_url": "smtp://127.0.0.1:1", "crash_at": "x"}, None):
        assert load_settings() == Settings()


def test_leadsla_config_names_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('exports = "s3://bucket/drop"\n', encoding="utf-8")
    with _world({"config": str(cfg)}, {"exports": "ignored-local"}):
        assert load_settings().exports == "s3://bucket/drop"
    with (
        _world({"config": str(tmp_path / "missing.toml")}, None),
        pytest.raises(SettingsInvalid, match=r"LEADSLA_CONFIG names .*missing\.toml"),
    ):
        load_settings()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # a misspelt key names itself and lists the settings there are
        ('dbb = "x.duckdb"\n', r"leadsla\.toml: unknown setting 'dbb'; the settings are rules"),
        # a value of the wrong kind names the setting and the file
        ("db = 5\n", r"setting 'db' in leadsla\.toml: .*give it as text"),
        # a syntax error names the file and says where
        ("db = \n", r"leadsla\.toml is not valid TOML \(.*line 1"),
    ],
)
def test_a_bad_settings_file_is_one_sentence(body: str, message: str) -> None:
    with _world({}, {}):
        Path("leadsla.toml").write_text(body, encoding="utf-8")
        with pytest.raises(SettingsInvalid, match=message) as info:
            load_settings()
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_the_cli_reports_a_bad_settings_file_in_one_line_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "leadsla.toml").write_text('rulez = "x"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSLA_")}
    res = subprocess.run(
        [LEADSLA, "check"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "leadsla: leadsla.toml: unknown setting 'rulez'; the settings are rules, exports, db, home"
    ]


@pytest.mark.slow
def test_the_cli_reads_the_settings_file(tmp_path: Path) -> None:
    # the rules folder comes from leadsla.toml: check says which folder it validated
    (tmp_path / "leadsla.toml").write_text('rules = "no_such_rules"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSLA_")}
    res = subprocess.run(
        [LEADSLA, "check"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert res.returncode == 2
    assert "no_such_rules" in res.stdout + res.stderr


@pytest.mark.slow
def test_the_tick_and_review_flows_read_the_same_settings(tmp_path: Path) -> None:
    from flows.daily_review import _resolve
    from flows.sla_tick import resolve_inputs

    rules = Path(__file__).resolve().parent.parent / "sla_rules"
    now = datetime(2026, 11, 23, 6, tzinfo=UTC)
    with _world({"db": str(tmp_path / "env.duckdb"), "rules": str(rules)}, {"exports": "drop"}):
        tick = resolve_inputs(now, None, None, None)
        _, review_rules, _, review_db = _resolve(now, None, None)
        # a parameter still beats the environment
        assert resolve_inputs(now, None, None, "param.duckdb").db == "param.duckdb"
    assert (tick.db, tick.exports, tick.rules_dir) == (
        str(tmp_path / "env.duckdb"),
        "drop",
        str(rules),
    )
    assert (str(review_db), review_rules) == (tick.db, tick.rules_dir)
