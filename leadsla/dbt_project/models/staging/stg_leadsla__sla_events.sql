-- One row per event; renamed and cast only (macros/event_columns.sql).
{{ event_columns(source('leadsla', 'sla_events')) }}
