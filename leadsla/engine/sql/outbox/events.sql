{#- The events recorded at now that a route or the CRM write-back may need, with the details
    fields routing reads parsed once per event (a JSON path per field would parse every
    event's details once per field) and the kind of the policy step that fired. -#}
{%- set fields = ["step", "intent", "team", "raised_by"] -%}
CREATE OR REPLACE TABLE work.notif_ev AS
WITH e AS (
    SELECT event_id, event_type, lead_id, issue_id, level, owner, target, policy_id,
           json_extract_string(details, [{% for f in fields %}'$.{{ f }}'{{ ", " if not loop.last }}{% endfor %}]) AS x,
           -- issue events carry their teams and resolved recipients; nothing else needs the
           -- whole document, and keeping it out keeps the joins and windows below narrow
           CASE WHEN issue_id IS NOT NULL THEN details END AS issue_details
    FROM sla_events
    WHERE recorded_at = $now AND list_contains($event_types, event_type)
      -- an event recorded at now can only have outbox rows created at now (same
      -- transaction): looking only there keeps a re-run cheap however large the outbox grows
      AND event_id NOT IN (SELECT event_id FROM outbox WHERE created_at = $now)
)
SELECT e.* EXCLUDE (x), {% for f in fields %}x[{{ loop.index }}] AS {{ f | replace(".", "_") }}{{ ", " if not loop.last }}{% endfor %},
       ps.kind AS step_kind
FROM e LEFT JOIN policy_steps ps ON ps.policy_id = e.policy_id AND ps.step_id = x[1]
