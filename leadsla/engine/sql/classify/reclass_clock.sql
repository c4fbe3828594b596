{#- Each reclassified lead's new clock by its choice: from_arrival and from_change take that
    clock; earlier takes the clock from the change when its deadline comes before the original
    one, else keeps the original clock (``kept``). A deadline not known (none yet) loses. -#}
CREATE OR REPLACE TABLE work.reclass_clock AS
WITH c AS ({{ calendar.clock_sql("reclass_src") }}),
a AS (SELECT lead_id, start_at, due_at FROM c WHERE start_kind = 'arrival'),
n AS (SELECT lead_id, start_at, due_at FROM c WHERE start_kind = 'change')
SELECT r.*,
       r.choice = 'earlier'
       AND NOT coalesce(n.due_at < r.old_due_at, r.old_due_at IS NULL) AS kept,
       CASE WHEN r.choice = 'from_arrival' THEN a.start_at ELSE n.start_at END AS new_start_at,
       CASE WHEN r.choice = 'from_arrival' THEN a.due_at ELSE n.due_at END AS new_due_at
FROM reclass r
LEFT JOIN a USING (lead_id)
LEFT JOIN n USING (lead_id)
