-- One row per (review date in the org's zone, team), plus team 'all' for the whole org: the
-- daily review of seed 002 section 10 (number of escalations, resolution time, conversion
-- outcome, repeated issue patterns) with the SLA headline the manager report opens with.
-- Every day from the first lead or issue to as_of has a row, so a quiet day shows zeros, not a
-- gap, and a feed of issues only has its days too. The 'all' rows are the grouping sets without
-- the team (grouping(), never a null team), and every team with a count on a day has a row.
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
-- Counted per (kind, day, team) first, each over its own rows, then summed per day and team
-- and for the whole org: a million leads are grouped once per kind instead of being unioned
-- into one table of every fact. The medians need the values themselves.
counts as (
    select created_date as review_date, team_id, 'lead_in' as kind, count(*) as n
    from leads group by all
    union all
    select due_date, team_id, 'met', count(*) from leads where is_met group by all
    union all
    select due_date, team_id, 'missed', count(*) from leads where is_missed group by all
    union all
    -- lead escalations and reassignments on the team recorded on the step (as fct_escalations),
    -- counted from the step events: their lead's columns are not needed here
    {% for step_type, kind in [('escalated', 'escalation'), ('reassigned', 'reassigned')] %}
    select occurred_date, coalesce(team_id, 'unassigned'), '{{ kind }}', count(*)
    from {{ ref('int_lead_step_events') }} where event_type = '{{ step_type }}' group by all
    union all
    {% endfor %}
    select escalated_date, team_id, 'issue_escalation', count(*)
    from {{ ref('fct_issue_escalations') }} group by all
    union all
    select recovered_date, team_id, 'recovered', count(*)
    from {{ ref('rpt_recovered_after_escalation') }} group by all
    union all
    select outcome_date, team_id, 'qualified', count(*)
    from leads where is_qualified group by all
    union all
    select outcome_date, team_id, 'booked', count(*)
    from leads where is_booked group by all
    union all
    select {{ org_date('resolved_at') }}, team_id, 'issue_resolved', count(*)
    from issues where resolved_at is not null group by all
),
per_day_counts as (
    select
        review_date,
        case when grouping(team_id) = 1 then 'all' else team_id end as team_id,
        {%- for kind, column in [('lead_in', 'leads_in'), ('met', 'sla_met'),
                                 ('missed', 'sla_missed'), ('escalation', 'escalations'),
                                 ('issue_escalation', 'issue_escalations'),
                                 ('reassigned', 'reassigned'), ('recovered', 'recovered'),
                                 ('qualified', 'qualified'), ('booked', 'booked'),
                                 ('issue_resolved', 'issues_resolved')] %}
        cast(coalesce(sum(n) filter (where kind = '{{ kind }}'), 0) as bigint) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from (select review_date, coalesce(team_id, 'unassigned') as team_id, kind, n from counts)
    where review_date is not null
    group by grouping sets ((review_date, team_id), (review_date))
),
timings as (
    select first_response_date as review_date, team_id, 'response' as kind,
           business_minutes_to_respond as value
    from leads where first_response_at is not null
    union all
    select {{ org_date('resolved_at') }}, team_id, 'issue_resolved',
           {{ minutes_between('raised_at', 'resolved_at') }}
    from issues where resolved_at is not null
),
per_day_medians as (
    select
        review_date,
        case when grouping(team_id) = 1 then 'all' else team_id end as team_id,
        median(value) filter (where kind = 'response') as median_business_minutes_to_respond,
        median(value) filter (where kind = 'issue_resolved') as median_minutes_to_resolve_issue
    from (select review_date, coalesce(team_id, 'unassigned') as team_id, kind, value
          from timings)
    where review_date is not null
    group by grouping sets ((review_date, team_id), (review_date))
),
per_day as (
    select *
    from per_day_counts
    full join per_day_medians using (review_date, team_id)
),
spine as (
    select cast(d as date) as review_date
    from range(
        (select cast(min(d) as timestamp) from (
            select min(created_date) as d from leads
            union all select min(escalated_date) from {{ ref('fct_issue_escalations') }}
            union all select min({{ org_date('raised_at') }}) from issues
        )),
        cast({{ org_date(as_of()) }} as timestamp) + interval 1 day,
        interval 1 day
    ) as t(d)
),
teams as (
    select distinct coalesce(team_id, 'unassigned') as team_id from leads
    union select distinct team_id from issues
    union select distinct team_id from per_day where team_id <> 'all'
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
-- Leads waiting at a day's end t: created before t, and neither answered nor closed before t.
-- For a lead created at c that stopped waiting at e (its first response or close, whichever
-- came first) that is [c < t] - [greatest(c, e) < t], so each lead adds +1 on the first window
-- day whose end is after c and -1 on the first whose end is after greatest(c, e), and a day's
-- count is the running sum up to it: one pass over the leads instead of one per (day, team).
-- Day ends increase (midnights, then as_of), and the first day ending after v < as_of is v's
-- own day. As before, only the last 32 days are counted (earlier days show 0).
window_days as (
    select review_date, day_end from grid
    where team_id = 'all' and review_date >= {{ org_date(as_of()) }} - 31
),
waiting_steps as (
    select coalesce(team_id, 'unassigned') as team_id, created_at as step_at,
           created_date as step_date, 1 as delta from leads
    union all
    select coalesce(team_id, 'unassigned'), waiting_ended_at, waiting_ended_date, -1 from leads
    where waiting_ended_at is not null
),
waiting_deltas as (
    select greatest(step_date, {{ org_date(as_of()) }} - 31) as first_day,
           team_id, grouping(team_id) = 1 as is_all,
           sum(delta) as delta
    from waiting_steps
    where step_at < {{ as_of() }}
    group by grouping sets ((first_day, team_id), (first_day))
),
waiting as (
    select w.review_date, case when d.is_all then 'all' else d.team_id end as team_id,
           cast(sum(d.delta) as bigint) as waiting_at_day_end
    from window_days as w
    join waiting_deltas as d on d.first_day <= w.review_date
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
