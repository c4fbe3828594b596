"""The Prefect wiring: prefect.yaml is a valid deployment file for the real flow, and the
flow really runs (under prefect_test_harness) and leaves its artifacts."""

from __future__ import annotations

import importlib
import inspect
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def test_prefect_yaml_deploys_the_tick_flow() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.flows import Flow

    raw = yaml.safe_load((REPO / "prefect.yaml").read_text())
    model = PrefectYamlModel.model_validate(raw)
    assert model.prefect_version == "3.8.8"
    (dep,) = [d for d in model.deployments if d.name == "sla-tick"]
    module, name = dep.entrypoint.split(":")  # type: ignore[union-attr]
    flow = getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), name)
    assert isinstance(flow, Flow)
    params = set(inspect.signature(flow.fn).parameters)
    assert set(dep.parameters) <= params
    sched = raw["deployments"][0]["schedules"][0]
    assert (sched["interval"], sched["timezone"]) == (300, "Asia/Kolkata")
    assert raw["deployments"][0]["concurrency_limit"] == {
        "limit": 1,
        "collision_strategy": "CANCEL_NEW",
    }
    assert dep.work_pool is not None
    assert dep.work_pool.name == "leadsla-process"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.mark.slow
def test_the_flow_runs_a_tick_and_leaves_artifacts(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        TaskRunFilter,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    from flows.sla_tick import sla_tick

    rules = tmp_path / "sla_rules"
    shutil.copytree(REPO / "sla_rules", rules)
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "leads_20261123T040500Z.csv").write_text(
        "lead_id,created_at,email,form_type,service_interest,owner,status,first_response_at\n"
        "H,2026-11-23 09:35,a@x.io,contact_form,seo,rahul,new,\n"
        "A,2026-11-23 09:30,b@x.io,contact_form,seo,sneha,contacted,2026-11-23 09:33\n"
        "U,2026-11-23 09:31,c@x.io,contact_form,,amit,new,\n"
    )
    db = tmp_path / "t.duckdb"
    now = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    out = sla_tick(now=now, rules_dir=str(rules), exports=str(exports), db=str(db))
    assert out["loaded"]["files_loaded"] == 1
    assert out["events_by_type"]["lead_received"] == 3
    con = duckdb.connect(str(db), read_only=True)
    fired = con.execute(
        "SELECT lead_id, event_type FROM sla_events WHERE event_type = 'task_created'"
    ).fetchall()
    assert ("H", "task_created") in fired
    assert ("A", "task_created") not in fired
    before = con.execute("SELECT count(*) FROM sla_events").fetchall()
    con.close()
    # the same tick again adds nothing
    again = sla_tick(now=now, rules_dir=str(rules), exports=str(exports), db=str(db))
    assert again["loaded"]["files_loaded"] == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sla_events").fetchall() == before
    con.close()

    async def artifacts() -> list[str]:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["sla-tick-fired", "sla-tick-summary"])
                ),
                # every filter given: this server refuses the nulls the client sends otherwise
                flow_run_filter=FlowRunFilter(),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=20,
            )
            return [a.key for a in found if a.key]

    import asyncio

    assert {"sla-tick-fired", "sla-tick-summary"} <= set(asyncio.run(artifacts()))
