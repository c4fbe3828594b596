{#- What a lead's clocks are built from (``clock_leads``, and a reassigned lead's new hop). -#}
lead_id, policy_id, qual_policy_id, next_policy_id, hop_started_at, hop,
    owner, team, source_id, first_seen_at, evaluated_until, responded_seen_at, closed_seen_at,
    progressed_seen_at, response_at, response_logged, previous_owners
