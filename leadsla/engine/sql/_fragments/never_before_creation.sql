{#- A response time `at` that is never before the record's creation `created`.

Ingest already drops a response dated before the row's own creation (with a warning); what is
left is a response derived from a status (the export's time, within the clock skew of a
creation time) or a creation time that a later export moved. Clamping it to the creation keeps
business minutes from going negative: a response never counts as met by a negative time. -#}
{%- macro never_before_creation(at, created) -%}
CASE WHEN ({{ at }}) IS NOT NULL THEN greatest({{ at }}, {{ created }}) END
{%- endmacro -%}
