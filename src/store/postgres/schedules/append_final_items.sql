-- An item after every other item of each run (the error item of an abandoned run).
INSERT INTO schedule_run_items (run_id, seq, at, item)
SELECT r.run_id, COALESCE((SELECT max(i.seq) FROM schedule_run_items i WHERE i.run_id = r.run_id), 0) + 1, :at::bigint, r.item::json
FROM json_to_recordset(:rows::json) AS r(run_id text, item text)
