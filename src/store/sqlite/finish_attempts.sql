-- Closes an attempt row with its outcome.
UPDATE attempts
SET finished_at = :now, outcome = :outcome, resolved_inputs = :resolved_inputs, error = :error
WHERE task_id = :task_id AND attempt = :attempt
