{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
-- One row per event with the details keys the marts use as typed columns. Incremental: JSON is
-- parsed once per event. A tick writes all its events with recorded_at = its now, and the
-- warehouse copies whole ticks, so everything recorded at or after the newest recorded_at
-- already here is (re)taken and merged on event_id: a re-run adds nothing, nothing is skipped.
-- After a backfill that records events older than that, run with --full-refresh.
select
    event_id,
    event_type,
    lead_id,
    issue_id,
    occurred_at,
    recorded_at,
    rule_id,
    policy_id,
    level,
    owner_id,
    target_id,
    details ->> 'step' as step_id,
    try_cast(details ->> 'hop' as integer) as hop,
    try_cast(details ->> 'threshold_at' as timestamptz) as threshold_at,
    try_cast(details ->> 'due_at' as timestamptz) as due_at,
    try_cast(details ->> 'business_minutes' as double) as business_minutes,
    try_cast(details ->> 'export_lag_minutes' as double) as export_lag_minutes,
    try_cast(details ->> 'seen_late' as boolean) as is_seen_late,
    coalesce(details ->> 'team', details -> 'teams' ->> 0) as team_id,
    details ->> 'lead_source' as lead_source,
    details ->> 'service_interest' as service_interest,
    details ->> 'record_url' as record_url,
    details ->> 'outcome' as outcome,
    details ->> 'issue_type' as issue_type,
    details ->> 'city' as city,
    details ->> 'device' as device,
    details ->> 'reason' as reason,
    cast(details -> 'missing_fields' as varchar) as missing_fields,
    try_cast(details ->> 'escalated_at' as timestamptz) as escalated_at,
    try_cast(details ->> 'minutes_after_escalation' as double) as minutes_after_escalation,
    details ->> 'channel' as channel
from {{ ref('stg_leadsla__sla_events') }}
{% if is_incremental() %}
where recorded_at >= (select coalesce(max(recorded_at), '-infinity'::timestamptz) from {{ this }})
{% endif %}
