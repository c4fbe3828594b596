INSERT INTO issue_state (source_id, {% for col, c in reported %}{{ col }}{{ ", " if not loop.last }}{% endfor %}, responded_at, resolved_at,
    first_seen_at, last_export_at, row_hash, responded_seen_at, resolved_seen_at)
SELECT $source_id, {% for col, c in reported %}j.{{ c }}, {% endfor %}j.resp, j.reso,
       $export_at, $export_at, j.h,
       CASE WHEN j.resp IS NOT NULL THEN $export_at END,
       CASE WHEN j.reso IS NOT NULL THEN $export_at END
FROM ijoined j WHERE j.is_new
