{#- The CRM owner changes to a member that exports showed after a due step's lead first
    arrived. -#}
CREATE OR REPLACE TABLE work.crm_moves AS
SELECT h.lead_id, h.valid_from AS since, h.crm_owner AS owner
FROM (
    SELECT lead_id, valid_from, crm_owner,
           lag(crm_owner) OVER (PARTITION BY lead_id ORDER BY valid_from) AS prev,
           row_number() OVER (PARTITION BY lead_id ORDER BY valid_from) AS n
    FROM lead_history WHERE lead_id IN (SELECT lead_id FROM due_steps)
) h JOIN members m ON m.member_id = h.crm_owner
WHERE h.n > 1 AND h.crm_owner IS DISTINCT FROM h.prev
