-- Closes attempt rows (a batch): outcome, resolved inputs, error.
UPDATE attempts a
SET finished_at = :now::bigint, outcome = f.outcome, resolved_inputs = f.resolved_inputs::json, error = f.error::json
FROM json_to_recordset(:rows::json) AS f(task_id text, attempt integer, outcome text, resolved_inputs text, error text)
WHERE a.task_id = f.task_id AND a.attempt = f.attempt
  -- Probe the primary key by id list (the recordset's size is unknown to the planner).
  AND a.task_id = ANY(ARRAY(SELECT r.task_id FROM json_to_recordset(:rows::json) AS r(task_id text)))
