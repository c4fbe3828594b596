-- One row: the logical now this build judges at (var as_of, or the run's start).
-- The views that judge "as of" read it from here instead of embedding the moment in their SQL,
-- so their SQL stays the same from build to build and view_if_changed leaves them as they are.
select {{ as_of() }} as as_of
