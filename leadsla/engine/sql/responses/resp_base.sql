{#- Responses that became known and are not logged yet. -#}
CREATE OR REPLACE TABLE work.resp_base AS
SELECT lead_id, rowid AS srid, policy_id, created_at AS start_at, response_at, due_at,
       owner, response_via, responded_seen_at, first_seen_at
FROM lead_state
WHERE response_at IS NOT NULL AND NOT coalesce(response_logged, false)
  AND policy_id IS NOT NULL
