{#- The clocks that start at the response, of the leads the clocks step selected. -#}
{% from "_fragments/clocks.sql" import later_clocks -%}
CREATE OR REPLACE TABLE work.later_src AS
{{ later_clocks("clock_leads") }}
