-- The pending request of a task that just paused; a previous pause's row (and decision) is replaced.
INSERT INTO task_approvals (task_id, tree_id, attempt, request, state, requested_at)
VALUES (:task_id, :tree_id, :attempt, :request, :state, :now)
ON CONFLICT (task_id) DO UPDATE
SET tree_id = excluded.tree_id, attempt = excluded.attempt, request = excluded.request, state = excluded.state,
    requested_at = excluded.requested_at, decision = NULL, decided_by = NULL, reason = NULL, decided_at = NULL
