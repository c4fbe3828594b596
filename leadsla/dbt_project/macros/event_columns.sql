{#- The event log's columns as staging exposes them (renamed and cast only; details stays JSON,
    intermediate unpacks it once): one list for the live log and the shadow log. -#}
{% macro event_columns(relation) %}
select
    event_id,
    event_type,
    lead_id,
    issue_id,
    cast(occurred_at as timestamptz) as occurred_at,
    cast(recorded_at as timestamptz) as recorded_at,
    rule_id,
    policy_id,
    cast(level as integer) as level,
    owner as owner_id,
    target as target_id,
    details
from {{ relation }}
{% endmacro %}
