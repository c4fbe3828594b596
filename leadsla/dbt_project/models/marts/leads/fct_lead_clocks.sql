-- One row per lead × milestone clock, in the style of dbt_zendesk's SLA policies: when each
-- clock started, its deadline, when it stopped, the verdict and who owned the lead when the
-- deadline passed unmet.
--  * first_response: every lead in lead_state; from its arrival to its first response (the
--    deadline and the response time as lead_state finally shows them, as fct_lead_sla).
--  * qualification: from the first response to a closing outcome (qualified, booked, lost,
--    disqualified, no_response), for leads whose intent has a qualification policy.
--  * next_step: from the first response to the next status change or close, for leads whose
--    intent has a next-step policy.
-- The deadline of a first-response clock is lead_state's; a later clock's is the one its step
-- events carry (each step records its clock's deadline). Every clock has a check at its
-- deadline (sla_missed when it has not been seen stopped), so a later clock with no step
-- recorded was seen stopped before its deadline (met) or has not reached it yet (pending);
-- its due_at stays null. Rebuilt by every build: the verdicts depend on its as_of (int_as_of).
with leads as (
    select * from {{ ref('int_lead_sla') }}
),
later_policies as (
    select lead_id, qual_policy_id, next_policy_id, progressed_at
    from {{ ref('stg_leadsla__lead_states') }}
    where qual_policy_id is not null or next_policy_id is not null
),
-- per (lead, policy): the clock's deadline, how often it reminded and escalated, and the owner
-- its deadline check (sla_missed, recorded at the deadline when no stop was seen) found
steps as (
    select lead_id, policy_id, min(due_at) as due_at,
           count(*) filter (where event_type = 'reminder_sent') as reminder_count,
           count(*) filter (where event_type = 'escalated') as escalation_count,
           arg_min(owner_id, occurred_at) filter (where event_type = 'sla_missed')
               as deadline_owner_id
    from {{ ref('int_lead_step_events') }}
    where policy_id is not null
    group by all
),
clocks as (
    select
        l.lead_id, 'first_response' as milestone, l.policy_id, l.team_id, l.owner_id,
        l.created_at as started_at, l.due_at, l.first_response_at as stopped_at,
        l.business_minutes_to_respond as business_minutes,
        st.reminder_count, st.escalation_count, st.deadline_owner_id
    from leads as l
    left join steps as st on st.lead_id = l.lead_id and st.policy_id = l.policy_id
    union all
    {% for milestone, policy in [('qualification', 'qual_policy_id'),
                                  ('next_step', 'next_policy_id')] %}
    select
        l.lead_id, '{{ milestone }}', p.{{ policy }}, l.team_id, l.owner_id,
        l.first_response_at,
        st.due_at,
        -- never before the clock started; null while it runs (least and greatest skip
        -- nulls, hence the case)
        {%- set closed_at = "case when l.is_closed then l.outcome_at end" %}
        {%- set stop = closed_at if milestone == 'qualification'
                       else "least(p.progressed_at, " ~ closed_at ~ ")" %}
        case when {{ stop }} is not null then greatest(l.first_response_at, {{ stop }}) end,
        null::double,
        st.reminder_count, st.escalation_count, st.deadline_owner_id
    from later_policies as p
    join leads as l on l.lead_id = p.lead_id
    left join steps as st on st.lead_id = p.lead_id and st.policy_id = p.{{ policy }}
    where p.{{ policy }} is not null and l.first_response_at is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),
judged as (
    select
        c.*,
        case
            when c.due_at is null and c.milestone = 'first_response' then 'no_deadline'
            when c.due_at is null then case when c.stopped_at is not null then 'met'
                                            else 'pending' end
            when c.stopped_at <= c.due_at then 'met'
            when c.stopped_at > c.due_at or c.due_at <= a.as_of then 'missed'
            else 'pending'
        end as sla_status
    from clocks as c
    cross join {{ ref('int_as_of') }} as a  -- one row: the build's as_of
)
select
    j.lead_id || ':' || j.milestone as clock_id,
    j.lead_id,
    j.milestone,
    j.policy_id,
    j.team_id,
    j.owner_id,
    j.started_at,
    j.due_at,
    j.stopped_at,
    {{ minutes_between('j.started_at', 'j.stopped_at') }} as minutes_to_stop,
    j.business_minutes as business_minutes_to_stop,
    j.sla_status = 'met' as is_met,
    j.sla_status = 'missed' as is_breached,
    j.sla_status,
    case when j.sla_status = 'missed' then j.due_at end as breached_at,
    -- the owner now when no deadline check has run yet (the tick after the deadline)
    case when j.sla_status = 'missed' then coalesce(j.deadline_owner_id, j.owner_id) end
        as owner_at_breach_id,
    coalesce(j.reminder_count, 0) as reminder_count,
    coalesce(j.escalation_count, 0) as escalation_count
from judged as j
