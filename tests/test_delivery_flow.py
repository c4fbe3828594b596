"""The flow edge of delivery: a prefect-email block becomes plain SMTP settings, and a tick
flow delivers through it to a real SMTP server on loopback."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect_email import EmailServerCredentials

from flows.blocks import smtp_settings_from_block
from flows.sla_tick import sla_tick

from .conftest import REPO, SmtpSink

NOW = datetime(2026, 11, 23, 4, 11, tzinfo=UTC)  # 09:41 IST, Monday: one task is due
LEADS = """\
lead_id,created_at,name,email,phone,lead_source,form_type,service_interest,message,city,owner,status
L-HIGH,2026-11-23T09:40:00+05:30,Asha Rao,asha@example.com,+919800000001,website,contact_form,seo,Please call me,Pune,rahul,new
"""  # noqa: E501


@pytest.mark.slow
def test_email_block_becomes_settings_and_the_flow_delivers(
    prefect_harness: None, tmp_path: Path, smtp_sink: tuple[SmtpSink, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    sink, port = smtp_sink
    EmailServerCredentials(
        smtp_server="127.0.0.1", smtp_port=port, smtp_type="INSECURE",
        username="sla@acme.example", password="hunter2-secret",
    ).save("leadsla-test-smtp", overwrite=True)  # fmt: skip
    settings = smtp_settings_from_block("leadsla-test-smtp")
    assert (settings.host, settings.port, settings.security) == ("127.0.0.1", port, "plain")
    assert settings.sender == "sla@acme.example"
    assert "hunter2" not in repr(settings)
    # aiosmtpd offers no AUTH on plain loopback: deliver with a password-less copy of the block
    EmailServerCredentials(smtp_server="127.0.0.1", smtp_port=port, smtp_type="INSECURE").save(
        "leadsla-test-smtp-open", overwrite=True
    )
    monkeypatch.setenv("LEADSLA_EMAIL_FROM", "sla@acme.example")
    monkeypatch.delenv("LEADSLA_SMTP_URL", raising=False)
    shutil.copytree(REPO / "sla_rules", tmp_path / "sla_rules")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "leads_20261123T041000Z.csv").write_text(LEADS, encoding="utf-8")
    out = sla_tick(
        now=NOW, rules_dir=str(tmp_path / "sla_rules"), exports=str(tmp_path / "exports"),
        db=str(tmp_path / "leadsla.duckdb"), email_block="leadsla-test-smtp-open",
    )  # fmt: skip
    assert out["delivered"]["sent"] >= 1
    assert [r for r, _ in sink.messages] == [["rahul@acme.example"]]
    assert sink.messages[0][1]["From"] == "sla@acme.example"
