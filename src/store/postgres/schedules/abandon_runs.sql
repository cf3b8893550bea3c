-- Runs a stopping runner gives up.
UPDATE schedule_runs
SET status = 'abandoned', finished_at = :now::bigint, lease_expires_at = NULL, error = :error::json
WHERE runner = :runner::text AND status = 'running' AND id = ANY(:ids::text[])
RETURNING *
