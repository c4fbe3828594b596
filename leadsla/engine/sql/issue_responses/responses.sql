{#- Responses and resolutions not yet logged, with business minutes since the raise on the
    issue's calendar: of valid issues, and of rejected ones seen before the export that
    rejected them (valid_until). `pos_sql` and `interval_at`: the business-time SQL of leadsla.calendars.sql. -#}
CREATE OR REPLACE TABLE work.iresp AS
WITH r AS (
    SELECT issue_id, lead_id, raised_by, raised_at, calendar_id, max_level,
           'issue_responded' AS kind, responded_at AS happened_at,
           responded_seen_at AS seen_at,
           NULL::VARCHAR AS resolution
    FROM issue_state
    WHERE responded_at IS NOT NULL AND NOT responded_logged
      AND (verdict = 'valid' OR responded_seen_at < valid_until)
    UNION ALL
    SELECT issue_id, lead_id, raised_by, raised_at, calendar_id, max_level,
           'issue_resolved', resolved_at, resolved_seen_at, resolution
    FROM issue_state
    WHERE resolved_at IS NOT NULL AND NOT resolved_logged
      AND (verdict = 'valid' OR resolved_seen_at < valid_until)
), a AS (
    SELECT r.*, {{ pos_sql("r.happened_at", "i") }} AS at_pos
    FROM r {{ interval_at("i", "r.calendar_id", "r.happened_at") }}
)
SELECT a.*, round((a.at_pos - {{ pos_sql("a.raised_at", "k") }}) / 6e7, 2) AS bus_min
FROM a {{ interval_at("k", "a.calendar_id", "a.raised_at") }}
