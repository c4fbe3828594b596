{#- Every clock looked at is decided up to ``now``; its next threshold says when to look again. -#}
UPDATE lead_state l SET evaluated_until = $now, next_step_at = n.next_at
FROM evaluated e
LEFT JOIN (SELECT lead_id, min(next_at) AS next_at FROM next_step GROUP BY lead_id) n
  USING (lead_id)
WHERE l.lead_id = e.lead_id
