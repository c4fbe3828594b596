{#- The lead's descriptive fields (`descriptive`), where one changed. The update groups: one
    UPDATE per group of columns, each only where that group changed (see merge.py). -#}
UPDATE lead_state s
SET {% for c in descriptive %}{{ c }} = j.{{ c }}, {% endfor %}record_url = coalesce(j.url, j.st_record_url)
FROM joined j
WHERE s.rowid = j.srid AND NOT j.is_new AND j.applies
  AND ({% for c in descriptive %}j.st_{{ c }} IS DISTINCT FROM j.{{ c }} OR {% endfor -%}
       (j.url IS NOT NULL AND j.url IS DISTINCT FROM j.st_record_url))
