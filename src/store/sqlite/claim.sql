-- ready → running for the ids claim_select.sql chose, with a lease.
UPDATE tasks
SET status = 'running',
    attempts = attempts + 1,
    lease_owner = :worker,
    lease_expires_at = :now + COALESCE(lease_ms, :lease_ms),
    started_at = COALESCE(started_at, :now)
WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'ready'
RETURNING *
