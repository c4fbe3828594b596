{%- set changed_at = "coalesce(j.updated_at, $export_at)" -%}
UPDATE lead_state s
SET crm_status = j.status, status_class = j.status_class,
    outcome = CASE WHEN list_contains({{ outcome }}, j.status_class) THEN j.status_class
                   ELSE j.s_outcome END,
    outcome_at = CASE WHEN list_contains({{ outcome }}, j.status_class)
                       AND j.status_class IS DISTINCT FROM j.s_outcome
                      THEN {{ changed_at }} ELSE j.st_outcome_at END,
    closed_seen_at = coalesce(j.s_closed_seen_at,
        CASE WHEN list_contains({{ closing }}, j.status_class) THEN $export_at END),
    -- the next step after a known response: the next status the CRM shows
    progressed_at = CASE WHEN j.st_progressed_at IS NULL
                              AND j.s_responded_seen_at IS NOT NULL
                         THEN {{ changed_at }} ELSE j.st_progressed_at END,
    progressed_seen_at = CASE WHEN j.st_progressed_seen_at IS NULL
                               AND j.s_responded_seen_at IS NOT NULL
                              THEN $export_at ELSE j.st_progressed_seen_at END
FROM joined j
WHERE s.rowid = j.srid AND NOT j.is_new AND j.applies
  AND (j.status IS DISTINCT FROM j.s_status OR j.status_class IS DISTINCT FROM j.st_status_class)
