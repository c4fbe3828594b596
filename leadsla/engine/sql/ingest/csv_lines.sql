{#- Physical lines of CSV records (leadsla.ingest.csv_lines.csv_lines). A record's ordinal is
    its place among all records, parsed or rejected; its line is the ordinal, plus two (the
    header, counting from one), plus the extra lines every earlier record spanned. Context:
    spans, a query of (rid, nl): parsed records that span lines and their line ends. -#}

-- the k-th rejected record (by line) follows `good_before` parsed ones: a parsed record `rid`
-- has as many rejected ones before it as the last of those with good_before <= rid
CREATE OR REPLACE TEMP TABLE raw_rejk AS
SELECT good_before, max(k) AS k FROM (
    SELECT line - 2 - (row_number() OVER (ORDER BY line) - 1) AS good_before,
           row_number() OVER (ORDER BY line) AS k
    FROM raw_rejects)
GROUP BY good_before;

-- the extra lines of every record up to ordinal `o`
CREATE OR REPLACE TEMP TABLE raw_extra AS
SELECT o, sum(extra) OVER (ORDER BY o) AS cum FROM (
    SELECT s.rid + coalesce(r.k, 0) AS o, s.nl AS extra
    FROM ({{ spans }}) s ASOF LEFT JOIN raw_rejk r ON s.rid >= r.good_before
    UNION ALL
    SELECT line - 2, size - 1 FROM raw_rejects WHERE size > 1);

CREATE OR REPLACE TEMP TABLE raw_rows AS
WITH k AS (
    SELECT k.*, k.rid + coalesce(r.k, 0) AS o
    FROM raw_rows k ASOF LEFT JOIN raw_rejk r ON k.rid >= r.good_before
)
SELECT k.* EXCLUDE (o, line), k.o + 2 + coalesce(e.cum, 0) AS line
FROM k ASOF LEFT JOIN raw_extra e ON k.o > e.o
ORDER BY k.rid;

CREATE OR REPLACE TEMP TABLE raw_rejects AS
SELECT r.* REPLACE (r.line + coalesce(e.cum, 0) AS line)
FROM raw_rejects r ASOF LEFT JOIN raw_extra e ON r.line - 2 > e.o
ORDER BY r.line;
