-- Events that do not say their owner, intent or team take them from lead state: a join over
-- every lead, so it runs only when some event needs it.
UPDATE notif_ev n SET owner = coalesce(n.owner, l.owner), intent = coalesce(n.intent, l.intent),
       team = coalesce(n.team, l.team)
FROM lead_state l
WHERE l.lead_id = n.lead_id AND (n.owner IS NULL OR n.intent IS NULL OR n.team IS NULL)
