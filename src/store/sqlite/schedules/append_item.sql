INSERT INTO schedule_run_items (run_id, seq, at, item) VALUES (:run_id, :seq, :at, :item)
