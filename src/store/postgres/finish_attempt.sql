-- Closes attempt rows (a batch): outcome, resolved inputs, error.
UPDATE attempts a
SET finished_at = :now::bigint, outcome = f.outcome, resolved_inputs = f.resolved_inputs::json, error = f.error::json
FROM json_to_recordset(:rows::json) AS f(task_id text, attempt integer, outcome text, resolved_inputs text, error text)
WHERE a.task_id = f.task_id AND a.attempt = f.attempt
