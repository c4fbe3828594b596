CREATE OR REPLACE TABLE work.member_load AS
{% include "_fragments/member_load.sql" %}
