-- An item after every other item of the run (the error item of an abandoned run).
INSERT INTO schedule_run_items (run_id, seq, at, item)
SELECT :run_id, COALESCE(max(seq), 0) + 1, :at, :item FROM schedule_run_items WHERE run_id = :run_id
