-- any non-terminal status → cancelled. A running attempt notices within a poll interval.
UPDATE tasks
SET status = 'cancelled', error = :error, finished_at = :now,
    lease_owner = NULL, lease_expires_at = NULL
WHERE id = :id AND status IN ('pending', 'ready', 'running', 'waiting_approval')
RETURNING tree_id, name, status
