-- running → waiting_approval: the executor asked a human (ApprovalRequired). The lease is released
-- at once: a paused task holds no worker slot and is never touched by lease recovery (that only
-- looks at `running`). approval_upsert.sql stores the request and state in the same transaction.
UPDATE tasks
SET status = 'waiting_approval', lease_owner = NULL, lease_expires_at = NULL
WHERE id = :id AND status = 'running' AND lease_owner = :worker
RETURNING tree_id, name, attempts, attempt_started_at
