-- One row per (owner, team) with at least one overdue first response at as_of.
select
    owner_id, team_id,
    count(*) as overdue_leads,
    min(due_at) as oldest_due_at,
    max(minutes_waiting) as max_minutes_waiting
from {{ ref('rpt_waiting_for_first_response') }}
where is_overdue
group by owner_id, team_id
