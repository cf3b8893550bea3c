-- Records the human's decision on the pending request (only once: decision is NULL while waiting).
UPDATE task_approvals
SET decision = :decision, decided_by = :by, reason = :reason, decided_at = :now
WHERE task_id = :task_id AND decision IS NULL
RETURNING request
