{#- The first-response clocks of the leads the clocks step selected. -#}
{% from "_fragments/clocks.sql" import first_clocks -%}
CREATE OR REPLACE TABLE work.clock_src AS
{{ first_clocks("clock_leads") }}
