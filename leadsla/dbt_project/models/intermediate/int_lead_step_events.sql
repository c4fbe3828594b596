{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
) }}
{#- per step type, the details keys a mart reads (a key not listed stays null, and its JSON is
    never parsed), and whether the marts show the step's policy, level, owner and target
    (escalations and recoveries); reminders, reassignments and sla_missed are only counted or
    listed with their lead's team and first response, and two million columns of nulls cost
    nothing to write -#}
{%- set step_types = {
    'reminder_sent': {'keys': ['due_at'], 'lead_detail': false},
    'escalated': {'keys': ['hop', 'due_at'], 'lead_detail': true},
    'reassigned': {'keys': ['due_at'], 'lead_detail': false},
    'sla_missed': {'keys': ['due_at'], 'lead_detail': true},
    'recovered_after_escalation': {
        'keys': ['escalated_at', 'minutes_after_escalation'], 'lead_detail': true},
} -%}
{%- set key_types = {'hop': 'integer', 'escalated_at': 'timestamptz',
                     'minutes_after_escalation': 'double', 'due_at': 'timestamptz'} -%}
{#- event columns only escalations, deadline checks and recoveries show (null on the other
    steps: a deadline check's owner is fct_lead_clocks' owner at breach); policy_id is on every
    step: fct_lead_clocks tells a lead's clocks apart by it -#}
{%- set step_columns = {'level': 'integer', 'owner_id': 'varchar', 'target_id': 'varchar'} -%}
-- One row per lead step event (reminder_sent, escalated, reassigned, sla_missed,
-- recovered_after_escalation) with the details keys the marts read unpacked once (hop on
-- escalations, escalated_at and minutes_after_escalation on recoveries, the clock's deadline
-- due_at on the others, the team on all), so
-- the marts read this table instead of the 10M-event log.
-- Only what the event itself says: a recorded step never changes, so the table is append-only.
-- A run adds the step events recorded at or after the newest recorded_at here that are not
-- here yet (a tick writes all its events at its now, so re-taking that tick misses nothing and
-- doubles nothing); only the new events' JSON is parsed. The lead's columns the marts show
-- beside a step (its team, first response, outcome) change as the lead does: the
-- int_lead_steps view joins them at read time, so a lead's change never rewrites its steps.
-- After a backfill that records events older than the newest recorded_at here, run with
-- --full-refresh.
with
{% if is_incremental() %}
watermark as (
    select coalesce(max(recorded_at), '-infinity'::timestamptz) as recorded_at from {{ this }}
),
{% endif %}
new_steps as (
    {% for step_type, spec in step_types.items() %}
    -- one = filter per type: DuckDB pushes it into the scan (an IN list it would not)
    select event_id, event_type, lead_id, rule_id, policy_id,
        {%- for column, column_type in step_columns.items() %}
        {{ column if spec['lead_detail'] else 'null::' ~ column_type ~ ' as ' ~ column }},
        {%- endfor %}
        {%- for key, key_type in key_types.items() %}
        {{ key if key in spec['keys'] else 'null::' ~ key_type ~ ' as ' ~ key }},
        {%- endfor %}
        team_id, occurred_at, recorded_at
    from {{ ref('int_events_unpacked') }}
    where event_type = '{{ step_type }}' and lead_id is not null
    {% if is_incremental() %}and recorded_at >= (select recorded_at from watermark){% endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)
select *, {{ org_date('occurred_at') }} as occurred_date
from new_steps
{% if is_incremental() %}
-- the re-taken newest tick: its steps already here are not added again
where event_id not in (
    select event_id from {{ this }} where recorded_at >= (select recorded_at from watermark)
)
{% endif %}
