UPDATE lead_state l SET team = a.team,
    -- a CRM owner change after the lead arrived stands (it came later)
    owner = coalesce(a.cur_owner, a.kept_owner, p.member_id),
    owner_origin = CASE WHEN a.cur_owner IS NOT NULL THEN l.owner_origin
                        WHEN a.kept_owner IS NOT NULL THEN 'crm'
                        WHEN p.member_id IS NOT NULL THEN 'routing' END,
    needs_review = CASE WHEN coalesce(a.cur_owner, a.kept_owner, p.member_id) IS NULL
                        THEN 'no eligible owner' ELSE l.needs_review END
FROM to_assign a LEFT JOIN rr_pick p USING (lead_id)
WHERE l.rowid = a.srid
