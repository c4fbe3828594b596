-- One row per (owner, team) with at least one overdue first response at as_of. A lead with no
-- owner (nobody eligible, a queue without members) counts under owner 'unassigned' in its
-- team or queue, and a lead with no team under team 'unassigned': never a null key.
select
    coalesce(owner_id, 'unassigned') as owner_id,
    coalesce(team_id, 'unassigned') as team_id,
    count(*) as overdue_leads,
    min(due_at) as oldest_due_at,
    max(minutes_waiting) as max_minutes_waiting
from {{ ref('rpt_waiting_for_first_response') }}
where is_overdue
group by all
