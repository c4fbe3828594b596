"""``leadsla prefect setup``: what the deployments in ``prefect.yaml`` need on a Prefect server,
created or brought up to date, idempotently (run it again after any change; it says what it did).

1. **Work pools** the deployments name (type ``process``).
2. **The email block** the deployments name (``email_block``), from ``LEADSLA_SMTP_URL`` (and
   ``LEADSLA_EMAIL_FROM`` for the sender, read by the worker), or asked on a terminal.
3. **Secret blocks** that ``notifications.yaml`` names (``{block: NAME}``), each from the
   environment variable ``NAME`` upper-cased with ``-`` as ``_``, or asked on a terminal.
4. **Pipeline-health automations**, calling the ops webhook (``LEADSLA_OPS_WEBHOOK_URL``, a
   Slack or Teams incoming webhook or any URL taking JSON, saved as the Webhook block
   ``leadsla-ops``): a tick that failed, no completed tick for ``late_after`` schedule intervals,
   a review that failed. Business escalations are not here: they go through leadsla's outbox.

Nothing that is missing stops the rest: each step reports ``created``, ``updated``,
``unchanged`` or ``skipped`` with the sentence that says how to finish it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from flows.blocks import email_block_from_settings, smtp_settings_from_block
from leadsla.delivery.check import endpoint_names
from leadsla.rules import load_rules
from leadsla.smtp import SmtpSettings

OPS_BLOCK = "leadsla-ops"
#: Prefix of every automation this command owns (others on the server are left alone).
AUTOMATION_PREFIX = "leadsla: "
FAILED = {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"}

#: ``ask(prompt, secret)`` returns what a person typed ('' to skip); None off a terminal.
Ask = Callable[[str, bool], str]


@dataclass(frozen=True)
class Step:
    """One thing setup looked at: ``kind`` and ``name``, what it did, and what a person should
    know about it (empty when nothing)."""

    kind: str
    name: str
    status: str  # created, updated, unchanged, skipped
    detail: str = ""

    def line(self) -> str:
        return f"{self.status:<9} {self.kind} {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )


@dataclass(frozen=True)
class Deployments:
    """What ``prefect.yaml`` asks of the server."""

    pools: list[str]
    email_blocks: list[str]
    tick_interval: timedelta


def read_prefect_yaml(path: Path) -> Deployments:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    deployments: list[dict[str, Any]] = data.get("deployments") or []
    pools = sorted({d["work_pool"]["name"] for d in deployments if d.get("work_pool")})
    blocks = sorted(
        {
            str(d["parameters"]["email_block"])
            for d in deployments
            if (d.get("parameters") or {}).get("email_block")
        }
    )
    interval = next(
        (
            float(s["interval"])
            for d in deployments
            if d.get("name") == "sla-tick"
            for s in d.get("schedules") or []
            if "interval" in s
        ),
        300.0,
    )
    return Deployments(pools, blocks, timedelta(seconds=interval))


def _ensure_pool(client: Any, name: str) -> Step:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    try:
        pool = client.read_work_pool(name)
    except ObjectNotFound:
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        return Step("work pool", name, "created", "type process")
    if pool.type != "process":
        return Step(
            "work pool",
            name,
            "unchanged",
            f"it is of type {pool.type}; the deployments expect process",
        )
    return Step("work pool", name, "unchanged")


def _same_smtp(a: SmtpSettings, b: SmtpSettings) -> bool:
    keys = ("host", "port", "security", "username", "password", "verify_tls")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _ensure_email_block(name: str, env: Mapping[str, str], ask: Ask | None) -> Step:
    wanted = SmtpSettings.from_env(env)  # raises SmtpConfigError: one sentence, from the CLI
    if wanted is None and ask is not None:
        url = ask(
            f"SMTP URL for email block {name!r} (e.g. smtp+starttls://user:pass@host:587,"
            " empty to skip)",
            True,
        ).strip()
        wanted = SmtpSettings.from_env({**env, "LEADSLA_SMTP_URL": url}) if url else None
    try:
        current: SmtpSettings | None = smtp_settings_from_block(name)
    except ValueError:
        current = None
    if wanted is None:
        if current is not None:
            return Step("email block", name, "unchanged", current.redacted())
        return Step(
            "email block",
            name,
            "skipped",
            "not created: set LEADSLA_SMTP_URL (e.g. smtp+starttls://user:pass@host:587)"
            " and run this again; until then ticks keep emails in the outbox and the "
            "review writes its files without sending",
        )
    if current is not None and _same_smtp(current, wanted):
        return Step("email block", name, "unchanged", wanted.redacted())
    email_block_from_settings(wanted).save(name, overwrite=True)
    return Step("email block", name, "created" if current is None else "updated", wanted.redacted())


def secret_env_name(block: str) -> str:
    """The environment variable setup reads a Secret block's value from."""
    return "".join(c if c.isalnum() else "_" for c in block).upper()


def _ensure_secrets(rules_dir: Path, env: Mapping[str, str], ask: Ask | None) -> list[Step]:
    from prefect.blocks.system import Secret

    rules = load_rules(rules_dir)
    if rules.notifications is None:
        return []
    steps: list[Step] = []
    for key, src in sorted(endpoint_names(rules.notifications).items()):
        if not src.startswith("block:"):
            where = "set" if env.get(src) else "not set"
            detail = f"from ${src} in the worker's environment ({where} in this shell)"
            steps.append(Step("endpoint", key, "env", detail))
            continue
        name, var = src[6:], secret_env_name(src[6:])
        value = env.get(var) or (
            ask(f"value of Secret block {name!r} ({key})", True).strip() if ask is not None else ""
        )
        try:
            secret: Any = Secret.load(name)  # sync here: Prefect's type says it may be awaited
            current: str | None = str(secret.get())
        except ValueError:
            current = None
        if not value:
            status = "unchanged" if current is not None else "skipped"
            detail = (
                ""
                if current is not None
                else (
                    f"not created: set {var} and run this again; until then {key} messages wait "
                    "in the outbox"
                )
            )
            steps.append(Step("secret block", name, status, detail))
        elif value == current:
            steps.append(Step("secret block", name, "unchanged"))
        else:
            Secret(value=value).save(name, overwrite=True)
            steps.append(Step("secret block", name, "created" if current is None else "updated"))
    return steps


def _is_private(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_private or addr.is_loopback


def _ensure_ops_webhook(env: Mapping[str, str]) -> tuple[Step, Any | None]:
    from prefect.blocks.webhook import Webhook

    url = env.get("LEADSLA_OPS_WEBHOOK_URL", "").strip()
    try:
        current: Any | None = Webhook.load(OPS_BLOCK)
    except ValueError:
        current = None
    if not url:
        if current is not None:
            return Step("webhook block", OPS_BLOCK, "unchanged"), current
        return Step(
            "webhook block",
            OPS_BLOCK,
            "skipped",
            "no ops channel: set LEADSLA_OPS_WEBHOOK_URL (a Slack or Teams incoming "
            "webhook, or any URL taking JSON) and run this again",
        ), None
    if current is not None and current.url.get_secret_value() == url:
        return Step("webhook block", OPS_BLOCK, "unchanged"), current
    block = Webhook(method="POST", url=url, allow_private_urls=_is_private(url))
    block.save(OPS_BLOCK, overwrite=True)
    return Step("webhook block", OPS_BLOCK, "created" if current is None else "updated"), block


def automations(
    block_id: Any, tick_interval: timedelta, late_after: int
) -> list[Any]:  # list[Automation]
    """The pipeline-health automations, each calling the ops webhook with a JSON ``text``."""
    from prefect.automations import Automation
    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import EventTrigger, Posture

    def flow(name: str) -> dict[str, str]:
        return {"prefect.resource.role": "flow", "prefect.resource.name": name}

    def call(text: str) -> CallWebhook:
        return CallWebhook(block_document_id=block_id, payload=json.dumps({"text": text}))

    late = tick_interval * late_after
    run = "{{ event.resource['prefect.resource.name'] }} ({{ event.event }})"
    return [
        Automation(
            name=f"{AUTOMATION_PREFIX}sla-tick failed",
            description="A scheduled or one-off SLA tick failed, crashed or timed out.",
            trigger=EventTrigger(
                expect=FAILED, match_related=flow("sla-tick"), posture=Posture.Reactive, threshold=1
            ),
            actions=[
                call(
                    f"leadsla: an SLA tick failed: {run}. The next tick catches up; "
                    "see the run's logs in the Prefect UI."
                )
            ],
        ),
        Automation(
            name=f"{AUTOMATION_PREFIX}sla-tick late",
            description=f"No SLA tick completed in {late} ({late_after} schedule intervals).",
            trigger=EventTrigger(
                expect={"prefect.flow-run.Completed"},
                match_related=flow("sla-tick"),
                posture=Posture.Proactive,
                threshold=1,
                within=late,
            ),
            actions=[
                call(
                    f"leadsla: no SLA tick has completed in {late}: is the worker "
                    "running and the sla-tick schedule active?"
                )
            ],
        ),
        Automation(
            name=f"{AUTOMATION_PREFIX}daily-review failed",
            description="The daily review failed: managers got no review today.",
            trigger=EventTrigger(
                expect=FAILED,
                match_related=flow("daily-review"),
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                call(
                    f"leadsla: the daily review failed: {run}. Managers got no review; "
                    "rerun it once fixed (docs/prefect_ops.md)."
                )
            ],
        ),
    ]


def _comparable(automation: Any) -> Any:
    """What setup decides, as JSON: the server adds ids of its own to triggers."""
    data = automation.model_dump(
        mode="json", include={"description", "trigger", "actions", "enabled"}
    )
    data["trigger"].pop("id", None)
    return data


def _ensure_automations(
    client: Any, block: Any | None, tick_interval: timedelta, late_after: int
) -> list[Step]:
    if block is None:
        return [
            Step(
                "automations",
                "pipeline health",
                "skipped",
                "they need the ops channel (LEADSLA_OPS_WEBHOOK_URL)",
            )
        ]
    from prefect.events.schemas.automations import AutomationCore

    steps: list[Step] = []
    for wanted in automations(block._block_document_id, tick_interval, late_after):
        core = AutomationCore.model_validate(wanted.model_dump(exclude={"id"}))
        existing = client.read_automations_by_name(wanted.name)
        if not existing:
            client.create_automation(core)
            steps.append(Step("automation", wanted.name, "created"))
            continue
        same = _comparable(existing[0]) == _comparable(core)
        if same:
            steps.append(Step("automation", wanted.name, "unchanged"))
        else:
            client.update_automation(existing[0].id, core)
            steps.append(Step("automation", wanted.name, "updated"))
    return steps


def setup(
    *,
    project: Path,
    rules_dir: Path,
    env: Mapping[str, str],
    ask: Ask | None = None,
    late_after: int = 3,
) -> list[Step]:
    """Bring the Prefect server at ``PREFECT_API_URL`` up to what ``project/prefect.yaml``
    needs; returns what each step did. Raises ``ConnectionError`` with one sentence when no
    server answers."""
    from prefect.client.orchestration import get_client

    wanted = read_prefect_yaml(project / "prefect.yaml")
    with get_client(sync_client=True) as client:
        try:
            client.api_healthcheck()
            client.read_work_pools(limit=1)
        except Exception as exc:  # any failure to talk to the server is this one sentence
            from prefect.settings import PREFECT_API_URL

            url = PREFECT_API_URL.value() or "an ephemeral server (PREFECT_API_URL is not set)"
            raise ConnectionError(
                f"no Prefect server answers at {url}: start `prefect server start` and export "
                "PREFECT_API_URL=http://127.0.0.1:4200/api"
            ) from exc
        steps = [_ensure_pool(client, p) for p in wanted.pools]
        steps += [_ensure_email_block(b, env, ask) for b in wanted.email_blocks]
        steps += _ensure_secrets(rules_dir, env, ask)
        webhook_step, block = _ensure_ops_webhook(env)
        steps.append(webhook_step)
        steps += _ensure_automations(client, block, wanted.tick_interval, late_after)
    return steps
