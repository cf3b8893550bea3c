-- running → ready without a failure: a worker shutting down hands its tasks back at once
-- instead of letting their leases expire.
UPDATE tasks SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL, run_after = :now::bigint
WHERE id = ANY(:ids::text[]) AND lease_owner = :worker::text AND status = 'running'
RETURNING id, tree_id, name, attempts
