-- Every level's threshold and deadline.
CREATE OR REPLACE TABLE work.isteps AS
SELECT issue_id, 1 AS level, valid_from AS threshold_at, 'initial' AS reason,
       due_at FROM ic1
UNION ALL
SELECT issue_id, 2, start_at, 'sla_timeout', due_at FROM ic2
UNION ALL
SELECT issue_id, 3, start_at, reason, due_at FROM ic3
