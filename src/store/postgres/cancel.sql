-- any non-terminal status → cancelled, for a set of tasks. A running attempt notices within a
-- poll interval (its worker's stillHeld no longer lists it).
UPDATE tasks
SET status = 'cancelled', error = :error::json, finished_at = :now::bigint,
    lease_owner = NULL, lease_expires_at = NULL
WHERE id = ANY(:ids::text[]) AND status IN ('pending', 'ready', 'running', 'waiting_approval')
RETURNING id, tree_id, name, created_at
