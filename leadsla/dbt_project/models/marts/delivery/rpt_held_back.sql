{{ config(materialized='view_if_changed') }}
-- One row per thing that did not reach a person as planned: messages suppressed (the lead was
-- answered meanwhile), deferred (quiet hours) or dead (delivery gave up), and lead steps that
-- fired only because the feed showed the response late. A view: the feed-lag steps are a
-- filter over int_lead_steps (step events with their lead's first response), the messages a
-- few = scans of the log.
with messages as (
    {% for kind in ['notification_suppressed', 'notification_deferred', 'notification_dead'] %}
    select event_id, event_type, lead_id, issue_id, team_id, occurred_at, reason, channel
    from {{ ref('int_events_unpacked') }}
    where event_type = '{{ kind }}'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)
select
    e.event_id as item_id,
    replace(e.event_type, 'notification_', '') as held_back_kind,
    e.lead_id,
    e.issue_id,
    coalesce(e.team_id, l.team_id, 'unassigned') as team_id,
    e.occurred_at,
    {{ org_date('e.occurred_at') }} as held_back_date,
    coalesce(e.reason, e.channel) as reason
from messages as e
left join {{ ref('int_lead_sla') }} as l on l.lead_id = e.lead_id
union all
select
    s.event_id,
    'feed_lag_step',
    s.lead_id,
    null,
    s.lead_team_id,
    s.occurred_at,
    s.occurred_date,
    -- rendered in UTC whatever the reader's session zone (this is a view)
    s.event_type || ' at ' || strftime(timezone('UTC', s.occurred_at), '%Y-%m-%d %H:%M')
        || 'Z; answered ' || strftime(timezone('UTC', s.first_response_at), '%Y-%m-%d %H:%M')
        || 'Z'
from {{ ref('int_lead_steps') }} as s
where s.event_type in ('reminder_sent', 'escalated', 'reassigned', 'sla_missed')
  and s.first_response_at <= s.occurred_at
