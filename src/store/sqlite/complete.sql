-- running → completed, only while the worker still holds the lease.
UPDATE tasks
SET status = 'completed', result = :result, error = NULL, finished_at = :now,
    lease_owner = NULL, lease_expires_at = NULL, lease_expiries = 0
WHERE id = :id AND status = 'running' AND lease_owner = :worker
RETURNING id, tree_id, name, attempts, attempt_started_at
