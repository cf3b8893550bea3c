-- waiting_approval → ready after `grove tasks approve|reject`: back in the queue, so any worker
-- (even one started after the pausing process died) claims it and resumes the executor.
-- approval_decide.sql records the decision in the same transaction.
UPDATE tasks
SET status = 'ready', run_after = :now, lease_owner = NULL, lease_expires_at = NULL
WHERE id = :id AND status = 'waiting_approval'
RETURNING tree_id, name
