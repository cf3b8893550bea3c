-- claim.sql for one tree (`grove run`): the same statement with the tree filter, kept separate
-- so that each prepared statement gets a plan on its own index (tasks_ready_tree here).
-- The claimed rows come back joined with their decided approval (if any): the engine's
-- ctx.resume, without another round trip.
WITH claimed AS (
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
    ORDER BY t.priority, t.created_at, t.id
    LIMIT :limit::integer
    FOR UPDATE SKIP LOCKED
  )
  RETURNING *
)
SELECT c.*, a.decision AS resume_decision, a.request AS resume_request, a.state AS resume_state,
       a.decided_by AS resume_by, a.reason AS resume_reason
FROM claimed c LEFT JOIN task_approvals a ON a.task_id = c.id AND a.decision IS NOT NULL
