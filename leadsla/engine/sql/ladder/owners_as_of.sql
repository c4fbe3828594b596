{#- Each due step of a lead in crm_moves names the owner as of its threshold: the newest of its
    assignment, reassignments and CRM moves by then (a step before all of them, the first). -#}
UPDATE due_steps d SET owner = x.owner
FROM (
    SELECT d.lead_id, d.policy_id, d.hop, d.step_id,
           coalesce(arg_max(f.owner, f.k) FILTER (WHERE f.since <= d.threshold_at),
                    arg_min(f.owner, f.k)) AS owner
    FROM due_steps d JOIN (
        -- on a tie the reassignment comes after the export it was judged on
        SELECT lead_id, since, owner, (since, 0) AS k FROM crm_moves
        UNION ALL
        SELECT lead_id, occurred_at, target, (occurred_at, 1) FROM sla_events
        WHERE lead_id IN (SELECT lead_id FROM crm_moves) AND target IS NOT NULL
          AND event_type IN ({{ owner_events }})
    ) f ON f.lead_id = d.lead_id
    GROUP BY ALL
) x
WHERE x.lead_id = d.lead_id AND x.policy_id = d.policy_id AND x.hop = d.hop
  AND x.step_id = d.step_id
