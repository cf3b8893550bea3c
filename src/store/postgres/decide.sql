-- waiting_approval → ready after `grove tasks approve|reject`: back in the queue, so any worker
-- (even one started after the pausing process died) claims it and resumes the executor. The
-- decision is recorded in the same statement; the caller locked the row and checked the status.
WITH moved AS (
  UPDATE tasks
  SET status = 'ready', run_after = :now::bigint, lease_owner = NULL, lease_expires_at = NULL
  WHERE id = :id::text AND status = 'waiting_approval'
  RETURNING id, tree_id, name
), decided AS (
  UPDATE task_approvals a
  SET decision = :decision::text, decided_by = :by::text, reason = :reason::text, decided_at = :now::bigint
  FROM moved
  WHERE a.task_id = moved.id AND a.decision IS NULL
  RETURNING a.task_id, a.request
)
SELECT m.id, m.tree_id, m.name, d.request FROM moved m LEFT JOIN decided d ON d.task_id = m.id
