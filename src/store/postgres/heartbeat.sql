-- Extends the leases a worker still holds.
UPDATE tasks SET lease_expires_at = :now::bigint + COALESCE(lease_ms, :lease_ms::bigint)
WHERE id = ANY(:ids::text[]) AND lease_owner = :worker::text AND status = 'running'
RETURNING id
