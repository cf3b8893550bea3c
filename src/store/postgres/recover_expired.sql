-- running tasks whose worker stopped heartbeating: back to ready (at-least-once delivery).
-- SKIP LOCKED: a row being finished right now by its worker is not waited for.
UPDATE tasks
SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL, run_after = :now::bigint,
    lease_expiries = lease_expiries + 1
WHERE id IN (
  SELECT id FROM tasks
  WHERE status = 'running' AND lease_expires_at < :now::bigint AND lease_expiries + 1 < :max_expiries::integer
  FOR UPDATE SKIP LOCKED
)
RETURNING id, tree_id, name, attempts
