{#- By lead id, not rowid: this runs after the reassignments, whose UPDATE of a LIST column
    moves rows; a rowid join here segfaulted DuckDB 2.0 now and then, or left response_logged
    unset, so the next tick logged the response again. -#}
UPDATE lead_state l SET response_logged = true
FROM resp r WHERE l.lead_id = r.lead_id
