-- Level 3 starts when level 2's SLA passes, or at once for a direct reason (high value,
-- customer risk, a repeated pattern).
CREATE OR REPLACE TABLE work.isrc3 AS
SELECT c.issue_id, 'issue:l3:' || c.calendar_id AS policy_id, c.due_at AS start_at,
       'sla_timeout' AS reason FROM ic2 c WHERE c.due_at IS NOT NULL
UNION ALL
SELECT issue_id, 'issue:l3:' || calendar_id, valid_from, direct_reason
FROM isrc1 WHERE direct_reason IS NOT NULL
