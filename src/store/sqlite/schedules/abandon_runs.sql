-- Runs a stopping runner gives up.
UPDATE schedule_runs
SET status = 'abandoned', finished_at = :now, lease_expires_at = NULL, error = :error
WHERE runner = :runner AND status = 'running' AND id IN (SELECT value FROM json_each(:ids))
RETURNING *
