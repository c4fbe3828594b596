-- One row per shadow event (decisions of the shadow rules, leadsla.pipelines.shadow); the
-- columns of stg_leadsla__sla_events (macros/event_columns.sql).
{{ event_columns(source('leadsla_shadow', 'shadow_events')) }}
