-- New activities only (the last line of a repeated activity id wins).
INSERT INTO activities
SELECT i.activity_id, i.lead_id, i.occurred_at, lower(i.type), i.actor,
       lower(i.direction), $source_id, $export_at
FROM (SELECT * FROM incoming QUALIFY row_number() OVER (
          PARTITION BY activity_id ORDER BY line DESC) = 1) i
ANTI JOIN activities a ON a.activity_id = i.activity_id
