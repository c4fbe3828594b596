{#- The earliest step still ahead of each clock: a tick with nothing due can skip the pass
    (a threshold beyond the calendar horizon counts as due for a look in a month). -#}
INSERT INTO next_step
SELECT lead_id, min(coalesce(threshold_at, $now + INTERVAL 30 DAY)) AS next_at
FROM due_steps WHERE threshold_at IS NULL OR threshold_at > $now GROUP BY lead_id
