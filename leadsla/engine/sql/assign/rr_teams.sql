INSERT INTO rr_state
SELECT DISTINCT a.team, 0 FROM to_assign a
WHERE a.team NOT IN (SELECT team FROM rr_state)
