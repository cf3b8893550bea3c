-- running → succeeded | failed, only by the runner holding it.
UPDATE schedule_runs
SET status = :status::text, finished_at = :now::bigint, error = :error::json, lease_expires_at = NULL
WHERE id = :id::text AND runner = :runner::text AND status = 'running'
RETURNING *
