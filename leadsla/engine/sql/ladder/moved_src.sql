{#- ``clock_src`` for the next round: the new hop of each lead just reassigned, as lead state now
    says (new owner, hop + 1, started at the reassignment's threshold). Only the first-response
    clock starts again: the clocks that start at the response are computed once, after the last
    round (``later_src``), so a reassignment never records them twice. -#}
{% from "_fragments/clocks.sql" import first_clocks -%}
{%- set src -%}
(SELECT {% include "_fragments/clock_lead_cols.sql" %} FROM lead_state WHERE lead_id IN (SELECT lead_id FROM moved))
{%- endset -%}
CREATE OR REPLACE TABLE work.clock_src AS
{{ first_clocks(src) }}
