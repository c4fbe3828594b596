{{ config(
    materialized='incremental',
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{#- per step type, the details keys a mart reads (a key not listed stays null, and its JSON is
    never parsed), and whether the marts show the step's policy, level, owner and target and
    the lead's descriptive columns beside it (escalations and recoveries); reminders,
    reassignments and sla_missed are only counted or listed with their lead's team and first
    response, and two million columns of nulls cost nothing to write -#}
{%- set step_types = {
    'reminder_sent': {'keys': [], 'lead_detail': false},
    'escalated': {'keys': ['hop'], 'lead_detail': true},
    'reassigned': {'keys': [], 'lead_detail': false},
    'sla_missed': {'keys': [], 'lead_detail': false},
    'recovered_after_escalation': {
        'keys': ['escalated_at', 'minutes_after_escalation'], 'lead_detail': true},
} -%}
{%- set key_types = {'hop': 'integer', 'escalated_at': 'timestamptz',
                     'minutes_after_escalation': 'double'} -%}
{#- event columns only escalations and recoveries show (null on the other steps) -#}
{%- set step_columns = {'policy_id': 'varchar', 'level': 'integer', 'owner_id': 'varchar',
                        'target_id': 'varchar'} -%}
-- One row per lead step event (reminder_sent, escalated, reassigned, sla_missed,
-- recovered_after_escalation) with the details keys the marts read unpacked once (hop on
-- escalations, escalated_at and minutes_after_escalation on recoveries, the team on all) and
-- the lead's columns the marts show beside it (fct_escalations, rpt_held_back,
-- rpt_sop_mistakes, rpt_escalation_rule_firing, rpt_recovered_after_escalation and
-- rpt_daily_review read it instead of the 10M-event log).
-- Incremental by lead (delete+insert on lead_id): a run rewrites every row of the leads that
--  * int_lead_sla refreshed since the largest lead_refresh_id here (their lead columns changed
--    or they have new events), or
--  * have step events recorded at or after the newest recorded_at here (re-taking that tick
--    is merged on event_id, so nothing is doubled or skipped).
-- Their older steps are taken from this table (event columns do not change), so only the new
-- events' JSON is parsed. After a backfill that records events older than the newest
-- recorded_at here, run with --full-refresh.
{% set events = ref('int_events_unpacked') %}
{% set event_columns %}
    event_id, event_type, lead_id, rule_id, policy_id, level, hop, owner_id, target_id, team_id,
    occurred_at, recorded_at, escalated_at, minutes_after_escalation
{% endset %}
with
{% if is_incremental() %}
watermark as (
    select coalesce(max(lead_refresh_id), 0) as refresh_id,
           coalesce(max(recorded_at), '-infinity'::timestamptz) as recorded_at
    from {{ this }}
),
{% endif %}
new_steps as (
    {% for step_type, spec in step_types.items() %}
    -- one = filter per type: DuckDB pushes it into the scan (an IN list it would not)
    select event_id, event_type, lead_id, rule_id,
        {%- for column, column_type in step_columns.items() %}
        {{ column if spec['lead_detail'] else 'null::' ~ column_type ~ ' as ' ~ column }},
        {%- endfor %}
        {%- for key, key_type in key_types.items() %}
        {{ key if key in spec['keys'] else 'null::' ~ key_type ~ ' as ' ~ key }},
        {%- endfor %}
        team_id, occurred_at, recorded_at
    from {{ events }}
    where event_type = '{{ step_type }}' and lead_id is not null
    {% if is_incremental() %}and recorded_at >= (select recorded_at from watermark){% endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),
{% if is_incremental() %}
touched as (
    select lead_id from {{ ref('int_lead_sla') }}
    where refresh_id > (select refresh_id from watermark)
    union
    select lead_id from new_steps
),
steps as (
    select {{ event_columns }}
    from (
        select {{ event_columns }}, 1 as priority from new_steps
        union all
        select {{ event_columns }}, 2 as priority
        from {{ this }}
        where lead_id in (select lead_id from touched)
    )
    qualify row_number() over (partition by event_id order by priority) = 1
)
{% else %}
steps as (
    select * from new_steps
)
{% endif %}
select
    e.event_id,
    e.event_type,
    e.lead_id,
    e.rule_id,
    e.policy_id,
    e.level,
    e.hop,
    e.owner_id,
    e.target_id,
    e.team_id,
    e.occurred_at,
    {{ org_date('e.occurred_at') }} as occurred_date,
    e.recorded_at,
    e.escalated_at,
    e.minutes_after_escalation,
    l.team_id as lead_team_id,
    l.first_response_at,
    l.refresh_id as lead_refresh_id,
    -- shown beside escalations and recoveries only (null on the other steps: a million
    -- record_urls more to write for nothing)
    {%- set detailed = [] -%}
    {%- for step_type, spec in step_types.items() if spec['lead_detail'] -%}
    {%- do detailed.append("'" ~ step_type ~ "'") -%}
    {%- endfor %}
    {% for column in ['lead_source', 'record_url', 'outcome_at', 'outcome', 'last_note_at'] -%}
    case when e.event_type in ({{ detailed | join(', ') }}) then l.{{ column }} end as {{ column }}
    {{- ',' if not loop.last }}
    {% endfor %}
from steps as e
left join {{ ref('int_lead_sla') }} as l on l.lead_id = e.lead_id
