UPDATE lead_state l SET due_at = d.due_at
FROM ({{ calendar.clock_sql("due_src") }}) d WHERE l.rowid = d.srid
