-- A CRM owner change is adopted (the CRM is the system of record for ownership) when the
-- owner is a member; otherwise only crm_owner records it.
UPDATE lead_state s
SET crm_owner = j.owner,
    owner = CASE WHEN j.owner IN (SELECT member_id FROM members) THEN j.owner ELSE j.st_owner END,
    owner_origin = CASE WHEN j.owner IN (SELECT member_id FROM members) THEN 'crm'
                        ELSE j.st_owner_origin END
FROM joined j
WHERE s.rowid = j.srid AND NOT j.is_new AND j.applies AND (j.owner IS DISTINCT FROM j.s_owner)
