-- Closes attempt rows (a batch): outcome, resolved inputs, error.
UPDATE attempts
SET finished_at = :now, outcome = f.value ->> 'outcome', resolved_inputs = f.value ->> 'resolved_inputs',
    error = f.value ->> 'error'
FROM json_each(:rows) AS f
WHERE attempts.task_id = f.value ->> 'task_id' AND attempts.attempt = f.value ->> 'attempt'
