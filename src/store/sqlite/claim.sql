-- ready → running for the next ready tasks, with a lease, in one statement: priority order (0
-- first), then age. A task with placement labels is taken only by a worker having every one of
-- them. The caller sorts the returned rows (RETURNING order is unspecified). The returned columns
-- are read by position, in the order of TASK_COLUMNS (sqlite-store.ts checks it when preparing).
UPDATE tasks
SET status = 'running',
    attempts = attempts + 1,
    lease_owner = :worker,
    lease_expires_at = :now + COALESCE(lease_ms, :lease_ms),
    started_at = COALESCE(started_at, :now),
    attempt_started_at = :now
WHERE id IN (
  SELECT t.id FROM tasks t
  WHERE t.status = 'ready'
    AND t.run_after <= :now
    AND (:tree_id IS NULL OR t.tree_id = :tree_id)
    AND (t.placement = '{}' OR NOT EXISTS (
          SELECT 1 FROM json_each(t.placement) p
          WHERE p.value IS NOT (SELECT l.value FROM json_each(:labels) l WHERE l.key = p.key)))
  ORDER BY t.priority, t.created_at, t.id
  LIMIT :limit -- replaced by a literal when prepared (see SqliteStore.claimStatement)
)
RETURNING id, tree_id, parent_id, name, executor, inputs, dependencies, priority, retry, timeout_ms, lease_ms,
  placement, owner, status, result, error, attempts, run_after, lease_owner, lease_expires_at, created_at,
  started_at, finished_at
