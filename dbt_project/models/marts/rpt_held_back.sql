-- One row per thing that did not reach a person as planned: messages suppressed (the lead was
-- answered meanwhile), deferred (quiet hours) or dead (delivery gave up), and lead steps that
-- fired only because the feed showed the response late.
select
    e.event_id as item_id,
    replace(e.event_type, 'notification_', '') as held_back_kind,
    e.lead_id,
    e.issue_id,
    coalesce(e.team_id, l.team_id, 'unassigned') as team_id,
    e.occurred_at,
    {{ org_date('e.occurred_at') }} as held_back_date,
    coalesce(e.reason, e.channel) as reason
from {{ ref('int_events_unpacked') }} as e
left join {{ ref('fct_lead_sla') }} as l on l.lead_id = e.lead_id
where e.event_type in ('notification_suppressed', 'notification_deferred', 'notification_dead')
union all
select
    e.event_id,
    'feed_lag_step',
    e.lead_id,
    null,
    l.team_id,
    e.occurred_at,
    {{ org_date('e.occurred_at') }},
    e.event_type || ' at ' || strftime(e.occurred_at, '%Y-%m-%d %H:%M') || 'Z; answered '
        || strftime(l.first_response_at, '%Y-%m-%d %H:%M') || 'Z'
from {{ ref('int_events_unpacked') }} as e
join {{ ref('fct_lead_sla') }} as l on l.lead_id = e.lead_id
where e.event_type in ('reminder_sent', 'escalated', 'reassigned', 'sla_missed')
  and l.first_response_at <= e.occurred_at
