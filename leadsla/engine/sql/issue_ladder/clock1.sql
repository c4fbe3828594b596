-- The deadline of each level-1 clock on its calendar (leadsla.calendars.sql.clock_sql over isrc1).
CREATE OR REPLACE TABLE work.ic1 AS {{ clock }}
