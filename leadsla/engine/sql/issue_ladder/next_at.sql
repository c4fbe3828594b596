-- The earliest threshold still ahead: until then a tick need not look at the issue (one
-- beyond the calendar tables' horizon is looked at again in a month).
UPDATE issue_state s SET next_at = n.next_at
FROM (SELECT c.issue_id, coalesce(min(coalesce(st.threshold_at, $now + INTERVAL 30 DAY))
               FILTER (WHERE st.threshold_at IS NULL OR st.threshold_at > $now),
               'infinity'::TIMESTAMPTZ) AS next_at
      FROM isrc1 c LEFT JOIN isteps st USING (issue_id) GROUP BY c.issue_id) n
WHERE s.issue_id = n.issue_id
