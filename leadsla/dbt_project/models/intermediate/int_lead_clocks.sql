{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
-- One row per lead × milestone clock: what fct_lead_clocks says that does not depend on as_of
-- (fct_lead_clocks is a view over this table adding the verdicts, which do), plus the
-- bookkeeping of the incremental run. Incremental by lead: a run rewrites the clocks of the
-- leads int_lead_sla rewrote (state_hash or events_recorded_at moved) and of the leads whose
-- later-clock policies or progress moved (later_hash), and of new leads.
--  * first_response: every lead in lead_state; from its arrival to its first response (the
--    deadline and the response time as lead_state finally shows them, as fct_lead_sla).
--  * qualification: from the first response to a closing outcome (qualified, booked, lost,
--    disqualified, no_response), for leads whose intent has a qualification policy.
--  * next_step: from the first response to the next status change or close, for leads whose
--    intent has a next-step policy.
-- The deadline of a first-response clock is lead_state's; a later clock's is the one its step
-- events carry (each step records its clock's deadline).
with later_policies as (
    select lead_id, qual_policy_id, next_policy_id, progressed_at,
           hash(qual_policy_id, next_policy_id, progressed_at) as later_hash
    from {{ ref('stg_leadsla__lead_states') }}
    where qual_policy_id is not null or next_policy_id is not null
),
leads as (
    select l.*, p.later_hash
    from {{ ref('int_lead_sla') }} as l
    left join later_policies as p on p.lead_id = l.lead_id
    {% if is_incremental() %}
    -- only the leads whose inputs moved since their clocks were written (or new ones)
    anti join (select lead_id, state_hash, events_recorded_at, later_hash
               from {{ this }} where milestone = 'first_response') as o
      on o.lead_id = l.lead_id
     and o.state_hash = l.state_hash
     and o.events_recorded_at is not distinct from l.events_recorded_at
     and o.later_hash is not distinct from p.later_hash
    {% endif %}
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
      {% if is_incremental() %}and lead_id in (select lead_id from leads){% endif %}
    group by all
),
clocks as (
    select
        l.lead_id, 'first_response' as milestone, l.policy_id, l.team_id, l.owner_id,
        l.created_at as started_at, l.due_at, l.first_response_at as stopped_at,
        l.business_minutes_to_respond as business_minutes,
        st.reminder_count, st.escalation_count, st.deadline_owner_id,
        l.state_hash, l.events_recorded_at, l.later_hash
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
        st.reminder_count, st.escalation_count, st.deadline_owner_id,
        l.state_hash, l.events_recorded_at, l.later_hash
    from later_policies as p
    join leads as l on l.lead_id = p.lead_id
    left join steps as st on st.lead_id = p.lead_id and st.policy_id = p.{{ policy }}
    where p.{{ policy }} is not null and l.first_response_at is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)
select
    c.lead_id || ':' || c.milestone as clock_id,
    c.*,
    {{ minutes_between('c.started_at', 'c.stopped_at') }} as minutes_to_stop
from clocks as c
