-- Items travel as JSON text inside the batch (cast to json here): json_to_recordset would refuse a
-- \u0000 escape in a nested value.
INSERT INTO schedule_run_items (run_id, seq, at, item)
SELECT :run_id::text, r.seq, r.at, r.item::json
FROM json_to_recordset(:items::json) AS r(seq integer, at bigint, item text)
