-- One row: the logical now this build judges at (var as_of, or the run's start).
-- A table rebuilt on every build, so that the views which judge "as of" (fct_lead_sla,
-- rpt_waiting_for_first_response) read it instead of embedding the moment in their SQL: a view
-- whose SQL changes is re-created on every build, one whose SQL stays the same is left as it
-- is (macros/view_if_changed.sql).
select {{ as_of() }} as as_of
