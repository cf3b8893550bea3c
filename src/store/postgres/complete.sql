-- running → completed for a batch, only where the worker still holds the lease.
UPDATE tasks t
SET status = 'completed', result = o.result::json, error = NULL, finished_at = :now::bigint,
    lease_owner = NULL, lease_expires_at = NULL, lease_expiries = 0
FROM json_to_recordset(:outcomes::json) AS o(id text, worker text, result text)
WHERE t.id = o.id AND t.status = 'running' AND t.lease_owner = o.worker
RETURNING t.id, t.tree_id, t.name, t.attempts
