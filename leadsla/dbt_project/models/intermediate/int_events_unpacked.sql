{{ config(materialized='view_if_changed') }}
-- One row per event with the details keys the marts use as typed columns. A view, not a table:
-- copying 10M events and parsing every document costs more than the whole build may take, and
-- no mart needs every key of every event. DuckDB pushes a consumer's filters (event_type =,
-- recorded_at >=, issue_id is not null) into the scan of raw.sla_events and prunes the columns it
-- does not select, so each document is parsed only for the keys and rows a consumer reads, and
-- the incremental models downstream parse only the newest ticks. (Filter with = or a union of
-- =, not IN lists: DuckDB does not push an IN list into the scan, and would read every document.)
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
