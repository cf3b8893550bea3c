-- running → ready without a failure: a worker shutting down hands its tasks back at once
-- instead of letting their leases expire.
UPDATE tasks SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL, run_after = :now
WHERE lease_owner = :worker AND status = 'running' AND id IN (SELECT value FROM json_each(:ids))
RETURNING id, tree_id, name, attempts, attempt_started_at
