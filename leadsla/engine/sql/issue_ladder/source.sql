-- Valid, routed, unanswered issues that may still climb and whose next threshold has come;
-- and rejected ones that were valid until an export, while a threshold before it is ahead.
CREATE OR REPLACE TABLE work.isrc1 AS
SELECT s.*, 'issue:' || s.sla_class || ':' || s.calendar_id AS policy_id,
       s.valid_from AS start_at
FROM issue_state s
WHERE (s.verdict = 'valid'
       OR (s.valid_until IS NOT NULL AND s.valid_from IS NOT NULL
           AND (s.next_at IS NULL OR s.next_at < s.valid_until)))
  AND s.teams IS NOT NULL AND NOT s.responded_logged
  AND NOT s.resolved_logged AND s.max_level < CASE WHEN s.climbs THEN 3 ELSE 1 END
  AND (s.next_at IS NULL OR s.next_at <= $now)
