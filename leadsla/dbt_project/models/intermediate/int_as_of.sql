{{ config(materialized='table_in_place') }}
-- One row: the logical now this build judges at (var as_of, or the run's start).
-- The views that judge "as of" read it from here, so the moment is decided once per build and
-- their SQL holds no timestamp.
select {{ as_of() }} as as_of
