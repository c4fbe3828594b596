-- The deadline of each level-3 clock on its calendar (leadsla.calendars.sql.clock_sql over isrc3).
CREATE OR REPLACE TABLE work.ic3 AS {{ clock }}
