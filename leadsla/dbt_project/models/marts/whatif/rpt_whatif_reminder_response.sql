-- One row per (first-response policy, reminder step, reminder offset): how often the owner
-- answered after a reminder, by how many business minutes after the clock started it fired
-- (the offset as recorded on each reminder, so a rule change that moved the reminder shows as a
-- second row). Only reminders of first-response clocks (the lead's own policy) count; a
-- reminder that fired only because the export showing the answer came late (the answer, as
-- finally known, came before the reminder) is counted apart and left out of the rates.
-- It shows what happened after each reminder, not what it caused: people who answer after a
-- reminder might have answered anyway, and a reminder at another offset would meet other
-- leads still waiting.
with reminders as (
    select lead_id, policy_id, step_id, hop, occurred_at as reminded_at, due_at,
           round(business_minutes) as reminder_offset_business_minutes
    from {{ ref('int_events_unpacked') }}
    where event_type = 'reminder_sent' and lead_id is not null
),
judged as (
    select
        r.policy_id,
        r.step_id,
        r.reminder_offset_business_minutes,
        coalesce(f.first_response_at < r.reminded_at, false) as is_after_response,
        coalesce(f.first_response_at >= r.reminded_at, false) as is_answered_after,
        coalesce(f.first_response_at >= r.reminded_at and f.first_response_at <= r.due_at,
                 false) as is_answered_by_deadline,
        case when f.first_response_at >= r.reminded_at
             then date_diff('second', r.reminded_at, f.first_response_at) / 60.0 end
            as minutes_to_response
    from reminders as r
    join {{ ref('fct_lead_sla') }} as f
      on f.lead_id = r.lead_id and f.policy_id = r.policy_id
),
counted as (
    select
        policy_id,
        step_id,
        reminder_offset_business_minutes,
        count(*) as reminders,
        count(*) filter (where is_after_response) as fired_after_response,
        count(*) filter (where is_answered_after) as answered_after,
        count(*) filter (where is_answered_by_deadline) as answered_by_deadline,
        median(minutes_to_response) as median_minutes_to_response
    from judged
    group by all
)
select
    policy_id || ':' || step_id || ':' || reminder_offset_business_minutes as reminder_group_id,
    policy_id,
    step_id,
    reminder_offset_business_minutes,
    reminders,
    fired_after_response,
    answered_after,
    answered_by_deadline,
    round(100.0 * answered_after / nullif(reminders - fired_after_response, 0), 1)
        as answered_after_pct,
    round(100.0 * answered_by_deadline / nullif(reminders - fired_after_response, 0), 1)
        as answered_by_deadline_pct,
    median_minutes_to_response
from counted
