-- One row per (review date in the org's zone, team), plus team 'all' for the whole org: the
-- daily review of seed 002 section 10 (number of escalations, resolution time, conversion
-- outcome, repeated issue patterns) with the SLA headline the manager report opens with.
-- Every day from the first lead to as_of has a row, so a quiet day shows zeros, not a gap.
with leads as (select * from {{ ref('fct_lead_sla') }}),
issue_events as (
    select * from {{ ref('int_events_unpacked') }} where issue_id is not null
),
issues as (
    select
        issue_id,
        min(occurred_at) filter (where event_type = 'issue_raised') as raised_at,
        min(occurred_at) filter (where event_type = 'issue_resolved') as resolved_at,
        arg_min(coalesce(team_id, 'unassigned'), occurred_at) as team_id,
        arg_min(issue_type, occurred_at) filter (where event_type = 'issue_raised') as issue_type
    from issue_events
    group by issue_id
),
facts as (
    select created_date as review_date, team_id, 'lead_in' as kind, null::double as value from leads
    union all
    select due_date, team_id, 'met', null from leads where is_met
    union all
    select due_date, team_id, 'missed', null from leads where is_missed
    union all
    select escalated_date, team_id, 'escalation', null from {{ ref('fct_escalations') }}
    union all
    select escalated_date, team_id, 'issue_escalation', null from {{ ref('fct_issue_escalations') }}
    union all
    select {{ org_date('e.occurred_at') }}, l.team_id, 'reassigned', null
    from {{ ref('int_events_unpacked') }} as e join leads as l using (lead_id)
    where e.event_type = 'reassigned'
    union all
    select recovered_date, team_id, 'recovered', null from {{ ref('rpt_recovered_after_escalation') }}
    union all
    select {{ org_date('first_response_at') }}, team_id, 'response', business_minutes_to_respond
    from leads where first_response_at is not null
    union all
    select {{ org_date('outcome_at') }}, team_id, 'qualified', null from leads where is_qualified
    union all
    select {{ org_date('outcome_at') }}, team_id, 'booked', null from leads where is_booked
    union all
    select {{ org_date('resolved_at') }}, team_id, 'issue_resolved',
           {{ minutes_between('raised_at', 'resolved_at') }}
    from issues where resolved_at is not null
),
per_day as (
    select
        review_date,
        coalesce(team_id, 'all') as team_id,
        count(*) filter (where kind = 'lead_in') as leads_in,
        count(*) filter (where kind = 'met') as sla_met,
        count(*) filter (where kind = 'missed') as sla_missed,
        count(*) filter (where kind = 'escalation') as escalations,
        count(*) filter (where kind = 'issue_escalation') as issue_escalations,
        count(*) filter (where kind = 'reassigned') as reassigned,
        count(*) filter (where kind = 'recovered') as recovered,
        median(value) filter (where kind = 'response') as median_business_minutes_to_respond,
        count(*) filter (where kind = 'qualified') as qualified,
        count(*) filter (where kind = 'booked') as booked,
        count(*) filter (where kind = 'issue_resolved') as issues_resolved,
        median(value) filter (where kind = 'issue_resolved') as median_minutes_to_resolve_issue
    from facts
    where review_date is not null
    group by grouping sets ((review_date, team_id), (review_date))
),
spine as (
    select cast(d as date) as review_date
    from range(
        (select cast(min(created_date) as timestamp) from leads),
        cast({{ org_date(as_of()) }} as timestamp) + interval 1 day,
        interval 1 day
    ) as t(d)
),
teams as (
    select distinct team_id from leads
    union select distinct team_id from issues
    union select 'all'
),
grid as (
    select
        s.review_date,
        t.team_id,
        least(
            cast(timezone('{{ var("org_timezone") }}', cast(s.review_date + interval 1 day as timestamp)) as timestamptz),
            {{ as_of() }}
        ) as day_end
    from spine as s cross join teams as t
),
waiting as (
    select g.review_date, g.team_id, count(l.lead_id) as waiting_at_day_end
    from grid as g
    left join leads as l
      on (g.team_id = 'all' or l.team_id = g.team_id)
     and l.created_at < g.day_end
     and (l.first_response_at is null or l.first_response_at >= g.day_end)
     and (l.closed_at is null or l.closed_at >= g.day_end)
    where g.review_date >= {{ org_date(as_of()) }} - 31
    group by all
),
patterns as (
    -- issue types raised at least twice in the team in the 7 days up to the review date
    select review_date, team_id, count(*) as repeated_issue_patterns
    from (
        select g.review_date, g.team_id, i.issue_type
        from grid as g
        join issues as i
          on (g.team_id = 'all' or i.team_id = g.team_id)
         and {{ org_date('i.raised_at') }} between g.review_date - 6 and g.review_date
        group by all
        having count(*) >= 2
    )
    group by all
)
select
    g.review_date,
    g.team_id,
    coalesce(p.leads_in, 0) as leads_in,
    coalesce(p.sla_met, 0) as sla_met,
    coalesce(p.sla_missed, 0) as sla_missed,
    case when coalesce(p.sla_met, 0) + coalesce(p.sla_missed, 0) > 0
         then round(100.0 * p.sla_met / (p.sla_met + p.sla_missed), 1) end as sla_met_pct,
    coalesce(p.escalations, 0) as escalations,
    coalesce(p.issue_escalations, 0) as issue_escalations,
    coalesce(p.reassigned, 0) as reassigned,
    coalesce(p.recovered, 0) as recovered,
    coalesce(w.waiting_at_day_end, 0) as waiting_at_day_end,
    p.median_business_minutes_to_respond,
    coalesce(p.qualified, 0) as qualified,
    coalesce(p.booked, 0) as booked,
    coalesce(p.issues_resolved, 0) as issues_resolved,
    p.median_minutes_to_resolve_issue,
    coalesce(r.repeated_issue_patterns, 0) as repeated_issue_patterns
from grid as g
left join per_day as p using (review_date, team_id)
left join waiting as w using (review_date, team_id)
left join patterns as r using (review_date, team_id)
