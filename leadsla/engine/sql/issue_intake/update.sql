{#- `reported`: the issue fields an export reports, besides the response and resolution. -#}
UPDATE issue_state s
SET {% for col, c in reported %}{{ col }} = j.{{ c }}, {% endfor %}row_hash = j.h,
    last_export_at = $export_at,
    responded_at = coalesce(s.responded_at, j.resp),
    resolved_at = coalesce(j.reso, s.resolved_at),
    responded_seen_at = coalesce(s.responded_seen_at,
                                 CASE WHEN j.resp IS NOT NULL THEN $export_at END),
    resolved_seen_at = coalesce(s.resolved_seen_at,
                                CASE WHEN j.reso IS NOT NULL THEN $export_at END)
FROM ijoined j WHERE s.issue_id = j.issue_id AND NOT j.is_new
