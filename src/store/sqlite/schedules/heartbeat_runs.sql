UPDATE schedule_runs SET lease_expires_at = :now + :lease_ms
WHERE runner = :runner AND status = 'running' AND id IN (SELECT value FROM json_each(:ids))
RETURNING id
