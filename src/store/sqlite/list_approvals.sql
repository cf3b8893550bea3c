-- Tasks waiting for a decision within a scope (whole path segments, never LIKE), oldest first.
SELECT t.id AS task_id, t.tree_id, t.name, t.executor, t.owner, a.attempt, a.request, a.requested_at
FROM task_approvals a JOIN tasks t ON t.id = a.task_id
WHERE t.status = 'waiting_approval' AND a.decision IS NULL
  AND (:tree_id IS NULL OR a.tree_id = :tree_id)
  AND (:scope = '' OR t.owner = :scope OR substr(t.owner, 1, length(:scope) + 1) = :scope || '/')
ORDER BY a.requested_at, t.id
LIMIT :limit
