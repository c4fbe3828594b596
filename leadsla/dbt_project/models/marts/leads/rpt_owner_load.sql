-- One row per (owner, team): leads owned, open now, overdue now, and missed, for the weekly
-- owner-load view (overloaded owners show many open and overdue leads).
select
    coalesce(owner_id, 'unassigned') as owner_id,
    coalesce(team_id, 'unassigned') as team_id,
    count(*) as leads,
    count(*) filter (where created_at > {{ as_of() }} - interval 7 day) as leads_last_7d,
    count(*) filter (where not is_closed) as open_leads,
    count(*) filter (where first_response_at is null and not is_closed
                       and due_at <= {{ as_of() }}) as overdue_now,
    count(*) filter (where is_missed) as missed
from {{ ref('fct_lead_sla') }}
group by all
