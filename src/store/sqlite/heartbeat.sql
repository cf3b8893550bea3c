UPDATE tasks SET lease_expires_at = :now + COALESCE(lease_ms, :lease_ms)
WHERE lease_owner = :worker AND status = 'running' AND id IN (SELECT value FROM json_each(:ids))
RETURNING id
