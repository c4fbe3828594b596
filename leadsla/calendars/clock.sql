{#- Each clock's deadline on its policy's business calendar. ``src``: rows with policy_id and
    start_at; adds calendar_id, start_pos, due_pos and due_at. -#}
WITH c0 AS (
    SELECT s.*, p.calendar_id, p.within_us, p.anchor, p.min_remaining_us
    FROM {{ src }} s JOIN policies p USING (policy_id)
), c1 AS (
    SELECT c0.*, {{ pos_sql("c0.start_at", "i") }} AS start_pos
    FROM c0 {{ interval_at("i", "c0.calendar_id", "c0.start_at") }}
), c2 AS (
    SELECT c1.*, c1.start_pos + c1.within_us AS within_pos,
           CASE WHEN c1.anchor = 'end_of_business_day'
                THEN c1.start_pos + greatest(c1.min_remaining_us, 1) END AS eod_key
    FROM c1
), c3 AS (
    SELECT c2.*, CASE WHEN c2.within_pos IS NULL THEN NULL ELSE
           {{ at_sql("c2.within_pos", "j", "c2.start_at") }} END AS within_at
    FROM c2 {{ interval_of("j", "c2.calendar_id", "c2.within_pos") }}
), c4 AS (
    SELECT c3.*, d.day_close_at AS eod_at, d.close_pos AS eod_pos
    FROM c3 {{ range_join("day_pos", "d", "c3.calendar_id", "c3.eod_key") }}
), c5 AS (
    SELECT c4.*, a.anchor_at AS nbd_at, a.anchor_pos AS nbd_pos
    FROM c4 {{ range_join("anchor_at", "a", "c4.policy_id", "epoch_us(c4.start_at)") }}
)
SELECT * EXCLUDE (within_us, anchor, min_remaining_us, within_pos, eod_key, within_at, eod_at,
                  eod_pos, nbd_at, nbd_pos),
       CASE WHEN within_us IS NOT NULL THEN within_at
            WHEN anchor = 'end_of_business_day' THEN eod_at ELSE nbd_at END AS due_at,
       CASE WHEN within_us IS NOT NULL THEN within_pos
            WHEN anchor = 'end_of_business_day' THEN eod_pos ELSE nbd_pos END AS due_pos
FROM c5
