-- running → completed for a batch, only where the worker still holds the lease.
UPDATE tasks t
SET status = 'completed', result = o.result::json, error = NULL, finished_at = :now::bigint,
    lease_owner = NULL, lease_expires_at = NULL, lease_expiries = 0
FROM json_to_recordset(:outcomes::json) AS o(id text, worker text, result text)
WHERE t.id = o.id AND t.status = 'running' AND t.lease_owner = o.worker
  -- Probe the primary key by id list: the planner cannot size a recordset and would otherwise
  -- hash-join it against a scan of every task (measured 1.8 ms per 15-task batch on 3,000 tasks).
  AND t.id = ANY(ARRAY(SELECT r.id FROM json_to_recordset(:outcomes::json) AS r(id text)))
RETURNING t.id, t.tree_id, t.name, t.attempts
