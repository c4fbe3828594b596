"""The Prefect wiring, as a specification.

- ``prefect.yaml`` is a file Prefect's own deploy model accepts, with no key it would silently
  ignore, and every deployment in it names a real flow whose signature takes its parameters.
- ``sla-tick`` runs every 5 minutes in office time, never two at once, on the process pool.
- The flow edge resolves its inputs like the CLI does and refuses naive times; only I/O errors
  are retried.
- Under ``prefect_test_harness`` the flow really runs a tick: events land in DuckDB, the run
  leaves a table and a markdown artifact, and a second tick at the same ``now`` adds nothing.
"""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import prefect
import pytest
import yaml
from prefect.cli.deploy._models import (
    ConcurrencyLimitSpec,
    DeploymentConfig,
    PrefectYamlModel,
    WorkPoolConfig,
)
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy, State
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.exceptions import ParameterTypeError
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.states import Failed
from prefect.utilities.importtools import import_object

import flows.sla_tick as sla_tick_module
from flows.sla_tick import TickInputs, resolve_inputs, retry_on_io_error, sla_tick
from leadsla.pipelines import tick

REPO = Path(__file__).resolve().parent.parent
PREFECT_YAML: dict[str, Any] = yaml.safe_load((REPO / "prefect.yaml").read_text())
DEPLOYMENTS: dict[str, dict[str, Any]] = {d["name"]: d for d in PREFECT_YAML["deployments"]}


def _keys(model: type[Any]) -> set[str]:
    """The YAML keys a Prefect config model reads (aliases such as ``prefect-version``)."""
    return {f.alias or name for name, f in model.model_fields.items()}


# ---- prefect.yaml ----------------------------------------------------------------------------


def test_prefect_yaml_is_accepted_by_prefects_deploy_model_with_no_ignored_keys() -> None:
    model = PrefectYamlModel.model_validate(PREFECT_YAML)
    # the file and the pinned package agree, so `prefect deploy` means what the test checked
    assert model.prefect_version == prefect.__version__ == "3.8.8"
    assert model.name == "leadsla"
    # Prefect's models say extra="ignore": a typo such as `concurency_limit` would deploy
    # without a limit and without a word. Every key must be one Prefect reads.
    assert set(PREFECT_YAML) <= _keys(PrefectYamlModel)
    for dep in PREFECT_YAML["deployments"]:
        assert set(dep) <= _keys(DeploymentConfig), dep["name"]
        assert set(dep.get("work_pool") or {}) <= _keys(WorkPoolConfig), dep["name"]
        if isinstance(dep.get("concurrency_limit"), dict):
            assert set(dep["concurrency_limit"]) <= _keys(ConcurrencyLimitSpec), dep["name"]


def test_pull_step_sets_the_working_directory_from_leadsla_home() -> None:
    (step,) = PREFECT_YAML["pull"]
    ((name, kwargs),) = step.items()
    assert name == "prefect.deployments.steps.set_working_directory"
    # the step exists and takes exactly these arguments, as the worker will call it
    inspect.signature(import_object(name)).bind(**kwargs)
    assert kwargs == {"directory": "{{ $LEADSLA_HOME }}"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployment_entrypoint_is_a_flow_that_takes_its_parameters(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = DEPLOYMENTS[name]
    # the worker resolves the entrypoint inside the checkout the pull step moved into
    monkeypatch.chdir(REPO)
    # no placeholder: an import error must fail here, not at 3 a.m. on the worker
    flow = load_flow_from_entrypoint(dep["entrypoint"], use_placeholder_flow=False)
    assert isinstance(flow, Flow)
    params = dep.get("parameters") or {}
    assert set(params) <= set(inspect.signature(flow.fn).parameters)
    flow.validate_parameters(params)  # types too: what the flow run does before it starts
    for sched in dep.get("schedules") or []:
        # the very conversion `prefect deploy` applies (checks the time zone name, the cron)
        _schedule_config_to_deployment_schedule(sched)
        assert sched.get("timezone"), "a schedule without a time zone runs in UTC"
    if dep.get("concurrency_limit") is not None:
        ConcurrencyLimitConfig.model_validate(dep["concurrency_limit"])  # a known strategy
    assert dep["work_pool"]["name"]


def test_sla_tick_runs_every_five_minutes_in_office_time_one_at_a_time() -> None:
    dep = DEPLOYMENTS["sla-tick"]
    assert dep["entrypoint"] == "flows/sla_tick.py:sla_tick"
    (sched,) = dep["schedules"]
    schedule = _schedule_config_to_deployment_schedule(sched)["schedule"]
    assert isinstance(schedule, IntervalSchedule)
    assert schedule.interval == timedelta(minutes=5)
    assert schedule.timezone == "Asia/Kolkata"
    assert sched["active"] is True
    # never two ticks on one DuckDB file: a tick due while one runs is cancelled, not queued
    limit = ConcurrencyLimitConfig.model_validate(dep["concurrency_limit"])
    assert (limit.limit, limit.collision_strategy) == (1, ConcurrencyLimitStrategy.CANCEL_NEW)
    assert dep["work_pool"]["name"] == "leadsla-process"
    # relative to the checkout; `now` stays unset so scheduled ticks read the clock
    assert dep["parameters"] == {
        "rules_dir": "sla_rules",
        "exports": "exports",
        "db": "leadsla.duckdb",
        "email_block": "leadsla-smtp",  # the deliver task's EmailServerCredentials block
        "shadow_rules": None,  # no shadow unless ops set one (docs/ops.md)
    }


# ---- the flow edge ---------------------------------------------------------------------------

ENV = {"LEADSLA_RULES": "/env/rules", "LEADSLA_EXPORTS": "s3://env/exports", "LEADSLA_DB": "e.db"}
T = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "env", "expected"),
    [
        # nothing given: the CLI's defaults, relative to the working directory
        ({}, {}, ("sla_rules", "exports", "leadsla.duckdb")),
        # environment beats defaults
        ({}, ENV, ("/env/rules", "s3://env/exports", "e.db")),
        # parameters beat environment, one by one
        ({"rules_dir": "r", "db": "p.db"}, ENV, ("r", "s3://env/exports", "p.db")),
        # an empty parameter (a cleared field in the UI) counts as not given
        ({"exports": ""}, ENV, ("/env/rules", "s3://env/exports", "e.db")),
    ],
    ids=["defaults", "env-beats-defaults", "params-beat-env", "empty-param-is-unset"],
)
def test_inputs_parameters_beat_environment_beat_defaults(
    params: dict[str, str],
    env: dict[str, str],
    expected: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = {"rules_dir": None, "exports": None, "db": None} | params
    assert resolve_inputs(T, **args) == TickInputs(T, *expected)


def test_now_is_read_once_at_the_edge_and_always_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    # an explicit moment keeps its instant and is handed down in UTC
    given = resolve_inputs(datetime(2026, 11, 23, 10, 30, tzinfo=ist), None, None, None)
    assert given.now == T
    assert given.now.tzinfo is UTC
    # no moment: the wall clock, read here and nowhere below
    before = datetime.now(UTC)
    read = resolve_inputs(None, None, None, None).now
    assert before <= read <= datetime.now(UTC)
    assert read.tzinfo is UTC


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive times are refused"):
        resolve_inputs(datetime(2026, 11, 23, 10, 30), None, None, None)
    # the deployed flow refuses it before any task runs (the parameter is an AwareDatetime)
    with pytest.raises(ParameterTypeError, match="timezone"):
        sla_tick.validate_parameters({"now": "2026-11-23T10:30:00"})
    assert sla_tick.validate_parameters({"now": "2026-11-23T10:30:00+05:30"})["now"] == T


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (OSError("network share went away"), True),
        (FileNotFoundError("exports/leads_20261123T041500Z.csv"), True),  # replaced mid-read
        (PermissionError("leadsla.duckdb"), True),
        # DuckDB's lock error is not an OSError, and it is the commonest transient here
        (duckdb.IOException('Could not set lock on file "leadsla.duckdb"'), True),
        (ValueError("sla_rules/policies.yaml: unknown calendar"), False),  # fix the rules
        (duckdb.CatalogException("Table with name sla_events does not exist"), False),
        (KeyError("source_id"), False),  # a bug: the same every time
    ],
    ids=lambda case: type(case).__name__ if isinstance(case, Exception) else str(case),
)
def test_only_io_errors_are_retried(error: Exception, retried: bool) -> None:
    assert retry_on_io_error(sla_tick_module.discover, None, Failed(data=error)) is retried


def test_io_tasks_retry_three_times_and_evaluate_never_retries() -> None:
    io_tasks = [sla_tick_module.discover, sla_tick_module.load, sla_tick_module.record]
    for t in io_tasks:
        assert (t.retries, t.retry_condition_fn) == (3, retry_on_io_error), t.name
    assert sla_tick_module.evaluate.retries == 0


# ---- a real run under prefect_test_harness --------------------------------------------------

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 10:30 IST, Monday
# Exported at 09:45 IST, five minutes after the newest lead was created: an export cannot show
# a lead created after its own stamp (leadsla quarantines such a row as a future timestamp).
EXPORT = "leads_20261123T041500Z.csv"
LEADS_CSV = """\
lead_id,created_at,name,email,phone,lead_source,form_type,service_interest,message,city,owner,status,first_response_at
L-HIGH,2026-11-23T09:40:00+05:30,Asha Rao,asha@example.com,+919800000001,website,contact_form,seo,Please call me,Pune,rahul,new,
L-ANSWERED,2026-11-23T09:20:00+05:30,Vikram Shah,vikram@example.com,+919800000002,website,contact_form,ppc,Need ads help,Mumbai,sneha,working,2026-11-23T09:30:00+05:30
L-UNCLEAR,2026-11-23T09:25:00+05:30,Neha Iyer,neha@example.com,+919800000003,website,contact_form,,Hi,Delhi,amit,new,
"""  # noqa: E501  (one CSV record per line reads best)


def _workdir(root: Path) -> Path:
    """A tick's working directory: a copy of the shipped rules and an empty exports folder."""
    shutil.copytree(REPO / "sla_rules", root / "sla_rules")
    (root / "exports").mkdir()
    return root


def _run_tick(root: Path) -> State[dict[str, Any]]:
    """One flow run at ``NOW`` over ``root``, as its final state (failures do not raise)."""
    return sla_tick(  # type: ignore[no-any-return]
        now=NOW,
        rules_dir=str(root / "sla_rules"),
        exports=str(root / "exports"),
        db=str(root / "leadsla.duckdb"),
        return_state=True,
    )


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@dataclass(frozen=True)
class Ticked:
    root: Path
    flow_run_id: UUID
    result: dict[str, Any]

    @property
    def db(self) -> Path:
        return self.root / "leadsla.duckdb"


@pytest.fixture(scope="module")
def ticked(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Ticked:
    """One real tick over the three-lead export, shared by the assertions below."""
    root = _workdir(tmp_path_factory.mktemp("tick"))
    (root / "exports" / EXPORT).write_text(LEADS_CSV, encoding="utf-8")
    state = _run_tick(root)
    assert state.is_completed(), state.message
    assert state.state_details.flow_run_id is not None
    return Ticked(root, state.state_details.flow_run_id, state.result())


@pytest.mark.slow
def test_tick_returns_json_counts_of_what_it_loaded_and_recorded(ticked: Ticked) -> None:
    out = ticked.result
    assert json.loads(json.dumps(out)) == out  # JSON-able: shown as the run's result
    assert out["now"] == "2026-11-23T05:00:00+00:00"
    assert (out["files_discovered"], out["files_loaded"], out["files_failed"]) == (1, 1, 0)
    assert (out["rows_loaded"], out["rows_quarantined"]) == (3, 0)
    assert out["events_by_type"]["lead_received"] == 3
    assert out["events_by_type"]["task_created"] >= 1
    assert out["step_events"] > 0
    assert out["events_recorded"] == sum(out["events_by_type"].values())


@pytest.mark.slow
def test_tick_records_every_lead_and_a_task_for_the_open_high_intent_lead(ticked: Ticked) -> None:
    received = _query(ticked.db, "SELECT lead_id FROM sla_events WHERE event_type='lead_received'")
    assert sorted(received) == [("L-ANSWERED",), ("L-HIGH",), ("L-UNCLEAR",)]
    tasks = _query(
        ticked.db,
        "SELECT lead_id, owner, occurred_at FROM sla_events WHERE event_type = 'task_created' "
        "ORDER BY occurred_at",
    )
    # rahul's lead is open and high intent: his task is due from the moment it arrived
    assert ("L-HIGH", "rahul", datetime(2026, 11, 23, 4, 10, tzinfo=UTC)) in tasks
    # the answered lead needs no task (the unclear one gets a qualification task)
    assert "L-ANSWERED" not in {lead for lead, _, _ in tasks}
    # every event carries the tick's logical time, not the wall clock
    assert _query(ticked.db, "SELECT DISTINCT recorded_at FROM sla_events") == [(NOW,)]


@pytest.mark.slow
def test_tick_leaves_a_table_of_what_fired_and_a_markdown_summary(ticked: Ticked) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        FlowRunFilter,
        TaskRunFilter,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["sla-tick-fired", "sla-tick-summary"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[ticked.flow_run_id]),
            ),
            # empty, not omitted: the client sends omitted filters as null, which the server
            # refuses with 422 under fastapi>=0.151 (docs/prefect_ops.md, "Known issue")
            flow_run_filter=FlowRunFilter(),
            task_run_filter=TaskRunFilter(),
            sort=ArtifactSort.KEY_ASC,
            limit=10,
            offset=0,
        )
    by_key = {a.key: a for a in artifacts}
    assert sorted(by_key) == ["sla-tick-fired", "sla-tick-summary"]
    fired = by_key["sla-tick-fired"]
    assert fired.type == "table"
    rows = json.loads(str(fired.data))
    assert {
        "event_type": "task_created",
        "lead_id": "L-HIGH",
        "occurred_at": "2026-11-23T04:10:00Z",
        "owner": "rahul",
    }.items() <= next(r for r in rows if r["lead_id"] == "L-HIGH").items()
    summary = by_key["sla-tick-summary"]
    assert summary.type == "markdown"
    # the library's own summary of this tick, verbatim: files loaded, events by type
    assert summary.data == tick.record_phase(db=ticked.db, now=NOW).markdown
    assert EXPORT in str(summary.data)


@pytest.mark.slow
def test_a_second_tick_at_the_same_now_adds_no_events(ticked: Ticked) -> None:
    before = _query(ticked.db, "SELECT * FROM sla_events ORDER BY event_id")
    again = _run_tick(ticked.root).result()
    assert _query(ticked.db, "SELECT * FROM sla_events ORDER BY event_id") == before
    # the file is settled in the manifest and every due step is already in the log
    assert (again["files_discovered"], again["files_loaded"], again["step_events"]) == (0, 0, 0)
    # it reports the events recorded at this `now`: the first run's, found again
    assert again["events_by_type"] == ticked.result["events_by_type"]


@pytest.mark.slow
def test_deliver_runs_after_record_and_without_a_channel_messages_wait(ticked: Ticked) -> None:
    assert sla_tick_module.deliver.retry_condition_fn is retry_on_io_error
    delivered = ticked.result["delivered"]
    # no SMTP block or LEADSLA_SMTP_URL here: rahul's task email waits in the outbox ...
    assert delivered["waiting"] >= 1
    assert delivered["dead"] == 0
    assert ("rahul@acme.example", "pending") in _query(
        ticked.db, "SELECT recipient, status FROM outbox WHERE channel = 'email'"
    )
    # ... while the CRM write-back file for the tick is written (one file, atomic rename)
    (crm,) = delivered["crm_files"]
    assert Path(crm).name == "crm_actions_20261123T050000Z.csv"


@pytest.fixture
def flaky_discover(monkeypatch: pytest.MonkeyPatch) -> Callable[[Exception], list[int]]:
    """Make the library's discover phase fail once with ``error``, then work; the task's retry
    delays are zeroed so the test does not sleep. Returns the list of attempts."""

    def install(error: Exception) -> list[int]:
        attempts: list[int] = []
        real = tick.discover_phase

        def discover_phase(**kwargs: Any) -> dict[str, Any]:
            attempts.append(len(attempts) + 1)
            if len(attempts) == 1:
                raise error
            return real(**kwargs)

        monkeypatch.setattr(tick, "discover_phase", discover_phase)
        fast = sla_tick_module.discover.with_options(retry_delay_seconds=0)
        monkeypatch.setattr(sla_tick_module, "discover", fast)
        return attempts

    return install


@pytest.mark.slow
def test_an_io_error_in_discover_is_retried_and_the_tick_completes(
    prefect_harness: None, tmp_path: Path, flaky_discover: Callable[[Exception], list[int]]
) -> None:
    attempts = flaky_discover(OSError("exports share not mounted yet"))
    state = _run_tick(_workdir(tmp_path))
    assert state.is_completed(), state.message
    assert attempts == [1, 2]


@pytest.mark.slow
def test_any_other_error_fails_the_tick_without_a_retry(
    prefect_harness: None, tmp_path: Path, flaky_discover: Callable[[Exception], list[int]]
) -> None:
    attempts = flaky_discover(ValueError("sla_rules/sources/x.yaml: bad glob"))
    state = _run_tick(_workdir(tmp_path))
    assert state.is_failed()
    assert attempts == [1]


def test_daily_review_at_eight_in_office_time_and_weekly_patterns_on_mondays() -> None:
    from prefect.client.schemas.schedules import CronSchedule

    daily, weekly = DEPLOYMENTS["daily-review"], DEPLOYMENTS["weekly-patterns"]
    assert daily["entrypoint"] == "flows/daily_review.py:daily_review"
    assert weekly["entrypoint"] == "flows/daily_review.py:weekly_patterns"
    for dep, cron in ((daily, "0 8 * * *"), (weekly, "30 8 * * 1")):
        (sched,) = dep["schedules"]
        schedule = _schedule_config_to_deployment_schedule(sched)["schedule"]
        assert isinstance(schedule, CronSchedule)
        assert (schedule.cron, schedule.timezone) == (cron, "Asia/Kolkata")
        limit = ConcurrencyLimitConfig.model_validate(dep["concurrency_limit"])
        assert (limit.limit, limit.collision_strategy) == (1, ConcurrencyLimitStrategy.CANCEL_NEW)
        assert dep["work_pool"]["name"] == "leadsla-process"
        # scheduled runs read the clock: no fixed day or now
        assert not {"report_date", "now"} & set(dep["parameters"])
    assert daily["parameters"]["email_block"] == "leadsla-smtp"
