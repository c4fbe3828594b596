DELETE FROM due_steps WHERE threshold_at IS NULL OR threshold_at > $now
