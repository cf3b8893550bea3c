-- running → ready again after a failed attempt, for a batch; run_after is set by the backoff.
UPDATE tasks t
SET status = 'ready', error = o.error::json, run_after = o.run_after,
    lease_owner = NULL, lease_expires_at = NULL
FROM json_to_recordset(:outcomes::json) AS o(id text, worker text, error text, run_after bigint)
WHERE t.id = o.id AND t.status = 'running' AND t.lease_owner = o.worker
RETURNING t.id, t.tree_id, t.name, t.attempts
