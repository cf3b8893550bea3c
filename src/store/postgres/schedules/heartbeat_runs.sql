UPDATE schedule_runs SET lease_expires_at = :now::bigint + :lease_ms::bigint
WHERE runner = :runner::text AND status = 'running' AND id = ANY(:ids::text[])
RETURNING id
