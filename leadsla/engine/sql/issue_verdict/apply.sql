UPDATE issue_state s SET verdict = CASE WHEN v.reason IS NULL THEN 'valid'
                                        ELSE 'rejected' END,
    verdict_hash = v.row_hash, reject_reason = v.reason, missing_fields = v.missing,
    -- the clock starts at the raise, or when a rejected issue was seen completed; a valid
    -- issue that an export rejects keeps its clock until that export (valid_until)
    valid_from = CASE WHEN v.reason IS NOT NULL
                           THEN CASE WHEN s.verdict = 'valid' THEN s.valid_from END
                      WHEN s.verdict = 'rejected'
                           THEN greatest(s.raised_at, s.last_export_at)
                      WHEN s.valid_from IS NOT NULL THEN s.valid_from
                      ELSE s.raised_at END,
    valid_until = CASE WHEN v.reason IS NULL THEN NULL
                       WHEN s.verdict = 'valid' THEN s.last_export_at
                       ELSE s.valid_until END
FROM iv v WHERE s.issue_id = v.issue_id
