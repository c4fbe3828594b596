{{ config(materialized='view_if_changed') }}
-- One row per lead waiting for its first response at as_of (not answered, not closed). A
-- view: a filter over fct_lead_sla, computed when read (the build only checks its key).
select
    lead_id, team_id, owner_id, intent, lead_source, record_url, created_at, due_at,
    due_at <= a.as_of as is_overdue,
    {{ minutes_between('created_at', 'a.as_of') }} as minutes_waiting
from {{ ref('fct_lead_sla') }}
cross join {{ ref('int_as_of') }} as a  -- one row: the build's as_of
where first_response_at is null and not is_closed and created_at <= a.as_of
