CREATE OR REPLACE TABLE work.iesc AS
WITH first AS (
    SELECT * FROM isteps
    QUALIFY row_number() OVER (PARTITION BY issue_id, level
                               ORDER BY threshold_at, reason) = 1
)
SELECT f.*, s.lead_id, s.raised_by, s.issue_type, s.city, s.device, s.teams,
       s.intent, s.high_value, s.senior_agent, s.calendar_id, s.sla_class
FROM first f JOIN issue_state s USING (issue_id)
WHERE f.level > s.max_level AND f.threshold_at IS NOT NULL AND f.threshold_at <= $now
  -- as of the threshold: valid according to what was known by then
  AND (s.valid_until IS NULL OR f.threshold_at < s.valid_until)
  AND (s.climbs OR f.level = 1)
  -- a level is skipped once a higher one was called before it (management already
  -- has a high-value issue: the team lead is not called after them)
  AND NOT EXISTS (SELECT 1 FROM first h WHERE h.issue_id = f.issue_id
                  AND h.level > f.level AND h.threshold_at < f.threshold_at)
  -- as of the threshold: not answered according to what was known by then
  AND NOT coalesce(least(s.responded_seen_at, s.resolved_seen_at)
                   <= greatest(f.threshold_at, s.first_seen_at), false)
ORDER BY f.issue_id, f.level
