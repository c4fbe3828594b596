-- One row per shadow event (decisions of the shadow rules, leadsla.pipelines.shadow); the
-- columns of stg_leadsla__sla_events, renamed and cast only.
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
from {{ source('leadsla_shadow', 'shadow_events') }}
