{{ config(materialized='view_if_changed') }}
-- One row per lead step event (int_lead_step_events) with its lead's columns as they are now
-- (int_lead_sla): the lead's team, first response, source, CRM link, outcome and newest note.
-- A view, so a lead's change shows on all its steps without rewriting them; a reader that
-- filters on event_type reads only those steps (DuckDB pushes the filter into the table scan),
-- and joins on int_lead_sla's key, one row per lead. Steps of leads not (or no longer) in
-- lead_state keep null lead columns.
select
    s.*,
    l.team_id as lead_team_id,
    l.first_response_at,
    l.lead_source,
    l.record_url,
    l.outcome_at,
    l.outcome,
    l.last_note_at
from {{ ref('int_lead_step_events') }} as s
left join {{ ref('int_lead_sla') }} as l on l.lead_id = s.lead_id
