{#- Leads each member holds that still wait for a first response: the load capacity is judged
    against. -#}
SELECT owner AS member_id, count(*) AS open_leads FROM lead_state
WHERE closed_seen_at IS NULL AND responded_seen_at IS NULL AND owner IS NOT NULL
GROUP BY owner
