-- claim.sql for one tree (`grove run`): the same statement with the tree filter, kept separate
-- so that each prepared statement gets a plan on its own index (tasks_ready_tree here).
UPDATE tasks
SET status = 'running',
    attempts = attempts + 1,
    lease_owner = :worker::text,
    lease_expires_at = :now::bigint + COALESCE(lease_ms, :lease_ms::bigint),
    started_at = COALESCE(started_at, :now::bigint)
WHERE id IN (
  SELECT t.id FROM tasks t
  WHERE t.tree_id = :tree_id::text
    AND t.status = 'ready'
    AND t.run_after <= :now::bigint
    AND :labels::jsonb @> t.placement
    -- finishAndClaim claims before it finishes: never a task of the batch being finished.
    AND t.id <> ALL(:exclude::text[])
  ORDER BY t.priority, t.created_at, t.id
  LIMIT :limit::integer
  FOR UPDATE SKIP LOCKED
)
RETURNING *
