UPDATE lead_state s
SET first_response_at = j.first_response_kept,  -- never before the creation state holds
    response_at = coalesce(j.st_response_at, j.resp_new),
    response_via = coalesce(j.st_response_via, CASE WHEN j.resp_new IS NOT NULL
                                                    THEN j.resp_via END),
    responded_seen_at = coalesce(j.s_responded_seen_at,
                                 CASE WHEN j.resp_new IS NOT NULL THEN $export_at END)
FROM joined j
WHERE s.rowid = j.srid AND NOT j.is_new AND j.applies
  AND (j.first_response_kept IS DISTINCT FROM j.st_first_response_at
       OR (j.st_response_at IS NULL AND j.resp_new IS NOT NULL))
