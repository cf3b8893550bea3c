-- Tasks waiting for a decision within a scope (whole path segments, never LIKE), oldest first.
SELECT t.id AS task_id, t.tree_id, t.name, t.executor, t.owner, a.attempt, a.request, a.requested_at
FROM task_approvals a JOIN tasks t ON t.id = a.task_id
WHERE t.status = 'waiting_approval' AND a.decision IS NULL
  AND (:tree_id::text IS NULL OR a.tree_id = :tree_id::text)
  AND (:scope::text = '' OR t.owner = :scope::text OR starts_with(t.owner, :scope::text || '/'))
ORDER BY a.requested_at, t.id
LIMIT :limit::bigint
