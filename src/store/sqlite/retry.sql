-- running → ready again after a failed attempt; run_after is set by the backoff.
UPDATE tasks
SET status = 'ready', error = :error, run_after = :run_after,
    lease_owner = NULL, lease_expires_at = NULL
WHERE id = :id AND status = 'running' AND lease_owner = :worker
RETURNING tree_id, name, attempts, attempt_started_at
