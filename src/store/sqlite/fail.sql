-- running → failed (or cancelled when the executor itself reported a cancellation).
UPDATE tasks
SET status = :status, error = :error, finished_at = :now,
    lease_owner = NULL, lease_expires_at = NULL
WHERE id = :id AND status = 'running' AND lease_owner = :worker
RETURNING tree_id, name, attempts, attempt_started_at
