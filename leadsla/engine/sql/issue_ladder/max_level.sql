UPDATE issue_state s SET max_level = e.level
FROM (SELECT issue_id, max(level) AS level FROM iesc GROUP BY issue_id) e
WHERE s.issue_id = e.issue_id
