INSERT INTO all_moved SELECT lead_id FROM moved
