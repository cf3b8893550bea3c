-- running → completed for a batch, only where the worker still holds the lease.
UPDATE tasks
SET status = 'completed', result = o.value ->> 'result', error = NULL, finished_at = :now,
    lease_owner = NULL, lease_expires_at = NULL, lease_expiries = 0
FROM json_each(:outcomes) AS o
WHERE tasks.id = o.value ->> 'id' AND tasks.status = 'running' AND tasks.lease_owner = o.value ->> 'worker'
RETURNING tasks.id, tasks.tree_id, tasks.name, tasks.attempts
