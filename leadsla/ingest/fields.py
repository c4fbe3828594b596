"""The canonical fields as the reader treats them: which are timestamps, numbers and ids, which
are required, and which columns the readers add beside an export's own."""

from __future__ import annotations

TIMESTAMP_FIELDS = {"created_at", "first_response_at", "updated_at", "occurred_at", "raised_at",
                    "responded_at", "resolved_at"}  # fmt: skip

NUMBER_FIELDS = {"lead_score", "estimated_value"}

#: Identifiers: normalised (:func:`normalise_id`) so that one id is one id whatever an exporter
#: or a hand edit did to it (a zero-width space, fullwidth digits, a trailing tab).
ID_FIELDS = {"lead_id", "issue_id", "activity_id", "owner", "actor", "raised_by"}

#: The id that names a record of each entity: two spellings of it in one file are reported.
KEY_FIELD = {"leads": "lead_id", "activities": "activity_id", "issues": "issue_id"}

#: Timestamps that cannot precede another of the same row (a response or an update before the
#: lead or issue existed): such a value is dropped with a warning and the row loads without it.
NOT_BEFORE: dict[str, dict[str, str]] = {
    "leads": {"first_response_at": "created_at", "updated_at": "created_at"},
    "issues": {"responded_at": "raised_at", "resolved_at": "raised_at"},
    "activities": {},
}

REQUIRED = {
    "leads": ("lead_id", "created_at"),
    "activities": ("activity_id", "lead_id", "occurred_at"),
    # an issue missing its lead or details is not quarantined: it is rejected back to the
    # raiser with the list of what to add (leadsla.issues), so only its identity is required
    "issues": ("issue_id", "raised_at"),
}

#: Columns the readers add beside the export's own (record number, position, fingerprint).
HELPER_COLS = {"line", "raw", "rid", "raw_hash"}
