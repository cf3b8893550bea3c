-- running tasks whose worker stopped heartbeating: back to ready (at-least-once delivery).
UPDATE tasks
SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL, run_after = :now,
    lease_expiries = lease_expiries + 1
WHERE status = 'running' AND lease_expires_at < :now AND lease_expiries + 1 < :max_expiries
RETURNING id, tree_id, name, attempts, lease_owner
