{#- The response is the owner's the export shows beside it: the CRM owner of the export row
    that first showed it (the newest history row at or before then), when a member; else who
    leadsla had given the lead at the response (its assignment or latest reassignment by
    then). Never who holds it when the tick runs: a catch-up tick sees later owners.
    Built by CREATE, not by an UPDATE of the work table (see response_logged.sql). -#}
CREATE OR REPLACE TABLE work.resp_src AS
SELECT r.* REPLACE (coalesce(x.credited, r.owner) AS owner)
FROM resp_base r LEFT JOIN (
    SELECT r.lead_id,
           coalesce(m.member_id,
                    (SELECT arg_max(e.target, e.occurred_at) FROM sla_events e
                     WHERE e.lead_id = r.lead_id
                       AND e.event_type IN ({{ owner_events }})
                       AND e.occurred_at <= r.response_at)) AS credited
    FROM resp_base r
    ASOF LEFT JOIN (SELECT lead_id, valid_from, crm_owner FROM lead_history
                    WHERE lead_id IN (SELECT lead_id FROM resp_base)) h
      ON h.lead_id = r.lead_id AND r.responded_seen_at >= h.valid_from
    LEFT JOIN members m ON m.member_id = h.crm_owner
) x USING (lead_id)
