UPDATE issue_state s SET teams = r.teams, calendar_id = r.calendar_id,
    sla_class = r.sla, intent = r.intent, high_value = r.high_value,
    direct_reason = r.direct_reason, senior_agent = r.senior_agent,
    climbs = list_contains($climb, r.intent) OR r.direct_reason IS NOT NULL
             OR ($without_lead AND r.intent IS NULL)
FROM iroute r WHERE s.issue_id = r.issue_id
