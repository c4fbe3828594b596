-- The deadline of each level-2 clock on its calendar (leadsla.calendars.sql.clock_sql over isrc2).
CREATE OR REPLACE TABLE work.ic2 AS {{ clock }}
