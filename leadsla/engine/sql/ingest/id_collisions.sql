{#- Two spellings of one id in one file (leadsla.ingest.ids.report_collisions): the rows with
    any spelling but the first (by line) get a reason naming both. Context: key, the id field
    of the entity (a canonical field name). -#}
UPDATE checked c SET reasons = list_append(c.reasons, x.reason)
FROM (
    WITH s AS (
        SELECT line, {{ key }} AS k, coalesce({{ key }}__shape, {{ key }}) AS spelling
        FROM checked
        WHERE {{ key }} IN (SELECT {{ key }} FROM checked WHERE {{ key }}__shape IS NOT NULL)
    ),
    f AS (SELECT k, arg_min(spelling, line) AS first, min(line) AS first_line
          FROM s GROUP BY k)
    SELECT s.line, '{{ key }}: ' || lsla_ascii(s.spelling) || ' here and '
           || lsla_ascii(f.first) || ' on line ' || f.first_line
           || ' are one id after normalisation (Unicode NFKC, invisible characters'
           || ' and surrounding space removed); the first spelling is kept' AS reason
    FROM s JOIN f USING (k) WHERE s.spelling <> f.first
) x
WHERE c.line = x.line
