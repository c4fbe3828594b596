UPDATE issue_state s SET verdict = CASE WHEN v.reason IS NULL THEN 'valid'
                                        ELSE 'rejected' END,
    verdict_hash = v.row_hash, reject_reason = v.reason, missing_fields = v.missing,
    -- the clock starts at the raise, or when a rejected issue was seen completed
    valid_from = CASE WHEN v.reason IS NOT NULL THEN NULL
                      WHEN s.valid_from IS NOT NULL THEN s.valid_from
                      WHEN s.verdict = 'rejected'
                           THEN greatest(s.raised_at, s.last_export_at)
                      ELSE s.raised_at END
FROM iv v WHERE s.issue_id = v.issue_id
