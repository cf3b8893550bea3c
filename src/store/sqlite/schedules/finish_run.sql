-- running → succeeded | failed, only by the runner holding it.
UPDATE schedule_runs
SET status = :status, finished_at = :now, error = :error, lease_expires_at = NULL
WHERE id = :id AND runner = :runner AND status = 'running'
RETURNING *
