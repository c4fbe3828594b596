{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
-- One row per lead in lead_state: everything fct_lead_sla says about it that does not depend on
-- as_of (fct_lead_sla adds the verdicts that do), plus the note time rpt_sop_mistakes needs and
-- the bookkeeping of the incremental run. Incremental by lead: a run rewrites only the leads
--  * with events recorded since the newest recorded_at already taken from
--    int_leads_events_summarised, or
--  * whose lead_state values, newest note or the org's zone changed (state_hash, a 64-bit hash
--    of every input column compared with the stored one: a full scan of lead_state's few
--    columns, far cheaper than rebuilding a million rows), or new leads.
with leads as (
    select * from {{ ref('stg_leadsla__lead_states') }}
),
notes as (
    select lead_id, max(occurred_at) as last_note_at
    from {{ ref('stg_leadsla__activities') }}
    where activity_type = 'note'
    group by lead_id
),
-- (read twice on an incremental run, for the comparison and for the rows: computed once)
state as {% if is_incremental() %}materialized {% endif %}(
    select
        l.*,
        n.last_note_at,
        hash(
            l.source_id, l.lead_source, l.service_interest, l.intent, l.policy_id, l.team_id,
            l.owner_id, l.record_url, l.created_at, l.due_at, l.response_at, l.outcome,
            l.outcome_at, l.closed_seen_at, n.last_note_at, '{{ var("org_timezone") }}'
        ) as state_hash
    from leads as l
    left join notes as n on n.lead_id = l.lead_id
),
summary as (
    select * from {{ ref('int_leads_events_summarised') }}
)
{% if is_incremental() %}
, changed as (
    select st.lead_id
    from state as st
    left join {{ this }} as o on o.lead_id = st.lead_id
    where o.lead_id is null or o.state_hash <> st.state_hash
    union
    select lead_id
    from summary
    where last_recorded_at >= (
        select coalesce(max(events_recorded_at), '-infinity'::timestamptz) from {{ this }}
    )
)
{% endif %}
select
    l.lead_id,
    l.source_id,
    l.lead_source,
    l.service_interest,
    l.intent,
    l.policy_id,
    l.team_id,
    l.owner_id,
    coalesce(s.first_owner_id, l.owner_id) as first_owner_id,
    l.record_url,
    l.created_at,
    {{ org_date('l.created_at') }} as created_date,
    l.due_at,
    {{ org_date('l.due_at') }} as due_date,
    l.response_at as first_response_at,
    {{ org_date('l.response_at') }} as first_response_date,
    s.business_minutes_to_respond,
    {{ minutes_between('l.created_at', 'l.response_at') }} as minutes_to_respond,
    coalesce(l.response_at <= l.due_at, false) as is_met,
    coalesce(s.reminder_count, 0) > 0 as was_reminded,
    coalesce(s.escalation_count, 0) > 0 as was_escalated,
    coalesce(s.escalation_count, 0) as escalation_count,
    s.first_escalated_at,
    coalesce(s.reassignment_count, 0) > 0 as was_reassigned,
    coalesce(s.is_recovered, false) as was_recovered,
    l.outcome,
    l.outcome_at,
    {{ org_date('l.outcome_at') }} as outcome_date,
    l.closed_seen_at as closed_at,
    -- the daily review counts a lead as waiting from its arrival until this moment; its day
    -- is converted here, once per lead change, instead of on every build (least and greatest
    -- skip nulls, so the case keeps it null while neither has happened)
    {%- set waiting_ended_at -%}
        case when coalesce(l.response_at, l.closed_seen_at) is not null
             then greatest(l.created_at, least(l.response_at, l.closed_seen_at)) end
    {%- endset %}
    {{ waiting_ended_at }} as waiting_ended_at,
    {{ org_date(waiting_ended_at) }} as waiting_ended_date,
    l.closed_seen_at is not null as is_closed,
    coalesce(l.outcome in ('qualified', 'booked'), false) as is_qualified,
    coalesce(l.outcome = 'booked', false) as is_booked,
    s.export_lag_minutes,
    -- steps that fired at or after the response lead_state finally shows: they fired only
    -- because the export showing the response came late
    coalesce(len(list_filter(s.step_fired_ats, lambda t: t >= l.response_at)), 0)
        as feed_lag_step_count,
    l.last_note_at,
    l.state_hash,
    s.last_recorded_at as events_recorded_at
from state as l
left join summary as s on s.lead_id = l.lead_id
{% if is_incremental() %}
where l.lead_id in (select lead_id from changed)
{% endif %}
