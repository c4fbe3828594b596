"""Message templates: the shipped ones serve any rules folder; a file of the same name in the
rules folder's ``templates/messages/`` overrides only that file."""

from __future__ import annotations

from pathlib import Path

from leadsla.delivery.render import SHIPPED, render_message

#: What the issue_rejected templates read (StrictUndefined: a missing name fails the test).
CTX = {
    "recipient_name": "Asha",
    "issue_id": "I-1",
    "lead": {"id": "L1", "record_url": ""},
    "d": {"reason": "missing_details", "message_to_raiser": "Add the city.",
          "missing_fields": ["city"], "known_types": ["coupon", "pricing"]},
    "message_id": "m1",
    "next_step": "Raise it again with the city.",
    "org": "Acme",
    "rule_id": "r1",
    "why": [("rule", "r1")],
}  # fmt: skip


def test_a_rules_folder_without_templates_uses_the_shipped_ones(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "messages"  # absent: the shipped templates serve
    shipped = render_message(SHIPPED, "issue_rejected", CTX)
    assert render_message(own, "issue_rejected", CTX) == shipped
    assert shipped[0]  # a subject


def test_one_overridden_file_changes_only_that_file(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "messages"
    own.mkdir(parents=True)
    (own / "issue_rejected.subject.txt").write_text("Ours: {{ issue_id }}", encoding="utf-8")
    subject, text, html = render_message(own, "issue_rejected", CTX)
    shipped = render_message(SHIPPED, "issue_rejected", CTX)
    assert subject == "Ours: I-1"
    assert (text, html) == shipped[1:]
