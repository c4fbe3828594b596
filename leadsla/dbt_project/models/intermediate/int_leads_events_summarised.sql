{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
-- One row per lead that has events: what the log says happened to it. Incremental by lead: a
-- run takes the events recorded at or after the newest recorded_at already summarised (a tick
-- writes all its events at its now, so re-taking that tick misses nothing), and replaces the
-- rows of the leads those events belong to.
--  * Counts, first times, the first owner and the step times are recomputed from the touched
--    leads' whole history, reading only columns that need no JSON (re-taking a tick must not
--    count its events twice).
--  * The two values that live in the JSON details (business minutes of the first response, the
--    export lag at receipt) are maxima: the new events' maximum is merged with the stored one,
--    so the history's documents are never parsed again.
-- A full build parses only first_response and lead_received documents (one = filter each, which
-- DuckDB pushes into the scan). After a backfill that records events older than the newest
-- recorded_at here, run with --full-refresh.
{% set events = ref('stg_leadsla__sla_events') %}
with
{% if is_incremental() %}
watermark as (
    select coalesce(max(last_recorded_at), '-infinity'::timestamptz) as recorded_at from {{ this }}
),
touched as (
    select distinct e.lead_id
    from {{ events }} as e, watermark as w
    where e.recorded_at >= w.recorded_at and e.lead_id is not null
),
history as (
    select lead_id, event_type, occurred_at, recorded_at, owner_id
    from {{ events }}
    where lead_id in (select lead_id from touched)
),
{% else %}
history as (
    select lead_id, event_type, occurred_at, recorded_at, owner_id
    from {{ events }}
    where lead_id is not null
),
{% endif %}
json_values as (
    select lead_id, try_cast(details ->> 'business_minutes' as double) as business_minutes,
           null::double as export_lag_minutes
    from {{ events }}
    where event_type = 'first_response' and lead_id is not null
    {% if is_incremental() %}and recorded_at >= (select recorded_at from watermark){% endif %}
    union all
    select lead_id, null, try_cast(details ->> 'export_lag_minutes' as double)
    from {{ events }}
    where event_type = 'lead_received' and lead_id is not null
    {% if is_incremental() %}and recorded_at >= (select recorded_at from watermark){% endif %}
),
json_summary as (
    select lead_id, max(business_minutes) as business_minutes_to_respond,
           max(export_lag_minutes) as export_lag_minutes
    from json_values
    group by lead_id
),
summary as (
    select
        lead_id,
        min(occurred_at) filter (where event_type = 'lead_received') as received_at,
        arg_min(owner_id, occurred_at) filter (where event_type = 'lead_assigned') as first_owner_id,
        count(*) filter (where event_type = 'reminder_sent') as reminder_count,
        count(*) filter (where event_type = 'escalated') as escalation_count,
        min(occurred_at) filter (where event_type = 'escalated') as first_escalated_at,
        count(*) filter (where event_type = 'reassigned') as reassignment_count,
        count(*) filter (where event_type = 'recovered_after_escalation') > 0 as is_recovered,
        count(*) filter (where event_type = 'sla_missed') as sla_missed_events,
        count(*) filter (where event_type = 'sla_met') as sla_met_events,
        -- when each step that a late-seen response makes a "feed lag" step fired (fct_lead_sla
        -- counts those at or after the response as lead_state finally shows it)
        list(occurred_at order by occurred_at) filter (
            where event_type in ('reminder_sent', 'escalated', 'reassigned', 'sla_missed')
        ) as step_fired_ats,
        max(recorded_at) as last_recorded_at
    from history
    group by lead_id
)
select
    s.lead_id,
    s.received_at,
    {% if is_incremental() %}
    greatest(j.export_lag_minutes, o.export_lag_minutes) as export_lag_minutes,
    {% else %}
    j.export_lag_minutes,
    {% endif %}
    s.first_owner_id,
    {% if is_incremental() %}
    greatest(j.business_minutes_to_respond, o.business_minutes_to_respond)
        as business_minutes_to_respond,
    {% else %}
    j.business_minutes_to_respond,
    {% endif %}
    s.reminder_count,
    s.escalation_count,
    s.first_escalated_at,
    s.reassignment_count,
    s.is_recovered,
    s.sla_missed_events,
    s.sla_met_events,
    coalesce(s.step_fired_ats, []::timestamptz[]) as step_fired_ats,
    s.last_recorded_at
from summary as s
left join json_summary as j on j.lead_id = s.lead_id
{% if is_incremental() %}
left join {{ this }} as o on o.lead_id = s.lead_id
{% endif %}
