-- ready → running for a batch in ONE statement, any tree (`grove worker`): priority order (0
-- first), then age. FOR UPDATE SKIP LOCKED lets concurrent workers each take different rows
-- without waiting on each other. A task with placement labels is taken only by a worker having
-- every one of them (jsonb containment; '{}' is contained in any label set). claim_start.sql wraps
-- this statement: attempt rows, task.started events and approvals in the same statement.
UPDATE tasks
SET status = 'running',
    attempts = attempts + 1,
    lease_owner = :worker::text,
    lease_expires_at = :now::bigint + COALESCE(lease_ms, :lease_ms::bigint),
    started_at = COALESCE(started_at, :now::bigint)
WHERE id IN (
  SELECT t.id FROM tasks t
  WHERE t.status = 'ready'
    AND t.run_after <= :now::bigint
    -- The common unplaced case is decided without jsonb: with a bare `@>` the planner could not
    -- estimate the filter and left the ready index for a scan (58–133 ms per claim, measured).
    AND CASE WHEN t.placement = '{}'::jsonb THEN true ELSE :labels::jsonb @> t.placement END
    -- finishAndClaim claims before it finishes: never a task of the batch being finished.
    AND t.id <> ALL(:exclude::text[])
  ORDER BY t.priority, t.created_at, t.id
  LIMIT :limit::integer
  FOR UPDATE SKIP LOCKED
)
RETURNING *
