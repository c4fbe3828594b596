-- One row per (issue type, city, device, team) raised at least twice: repeated issue patterns.
select
    coalesce(issue_type, 'unknown') as issue_type,
    coalesce(city, 'unknown') as city,
    coalesce(device, 'unknown') as device,
    coalesce(team_id, 'unassigned') as team_id,
    count(*) as issues,
    min(occurred_at) as first_raised_at,
    max(occurred_at) as last_raised_at
from {{ ref('int_events_unpacked') }}
where event_type = 'issue_raised'
group by all
having count(*) >= 2
