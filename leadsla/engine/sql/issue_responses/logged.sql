UPDATE issue_state s SET
    responded_logged = s.responded_logged OR list_contains(r.kinds, 'issue_responded'),
    resolved_logged = s.resolved_logged OR list_contains(r.kinds, 'issue_resolved')
FROM (SELECT issue_id, list(kind) AS kinds FROM iresp GROUP BY issue_id) r
WHERE s.issue_id = r.issue_id
