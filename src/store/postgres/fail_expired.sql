-- A task whose lease expired again and again kills its workers: fail it instead of looping.
UPDATE tasks
SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, finished_at = :now::bigint,
    lease_expiries = lease_expiries + 1, error = :error::json
WHERE id IN (
  SELECT id FROM tasks
  WHERE status = 'running' AND lease_expires_at < :now::bigint AND lease_expiries + 1 >= :max_expiries::integer
  FOR UPDATE SKIP LOCKED
)
RETURNING id, tree_id, name, attempts
