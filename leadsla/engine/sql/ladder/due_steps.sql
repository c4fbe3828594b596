{#- Every ladder step of the clocks in ``src`` whose threshold lies past the clock's watermark
    and before which, as of the threshold, the clock was not stopped. Thresholds past ``now`` are
    kept until next_step has noted them (prune_due.sql). -#}
CREATE OR REPLACE TABLE work.due_steps AS
WITH c AS ({{ calendar.clock_sql(src) }}),
s AS (
    SELECT c.*, st.step_id, st.kind, st.ord, st.step_action,
           (CASE st.base WHEN 'start' THEN c.start_pos ELSE c.due_pos END)
           + st.offset_us AS thr_pos
    FROM c JOIN policy_steps st USING (policy_id)
    WHERE st.kind <> 'sla_check' OR c.hop = 0
), t AS (
    SELECT s.*, {{ calendar.at_sql("s.thr_pos", "j", "s.start_at") }} AS threshold_at
    FROM s {{ calendar.interval_of("j", "s.calendar_id", "s.thr_pos") }}
)
SELECT * FROM t
WHERE NOT coalesce(done_seen_at <= greatest(threshold_at, first_seen_at), false)
  AND (low IS NULL OR threshold_at IS NULL OR threshold_at > low)
