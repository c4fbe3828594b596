-- Level 2 starts when level 1's SLA passes (only for issues that may climb).
CREATE OR REPLACE TABLE work.isrc2 AS
SELECT issue_id, 'issue:l2:' || calendar_id AS policy_id, due_at AS start_at
FROM ic1 WHERE climbs AND due_at IS NOT NULL
