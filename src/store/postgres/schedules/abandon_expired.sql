-- Runs whose runner stopped heartbeating (it died mid-run): abandoned, never silently lost.
UPDATE schedule_runs
SET status = 'abandoned', finished_at = :now::bigint, lease_expires_at = NULL,
    error = json_build_object('type', 'abandoned', 'message',
      'runner ' || runner || ' stopped heartbeating; the lease expired at '
      || to_char(to_timestamp(lease_expires_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      || ' before the run finished')
WHERE status = 'running' AND lease_expires_at < :now::bigint
  AND (:scope::text = '' OR owner = :scope::text OR starts_with(owner, :scope::text || '/'))
RETURNING *
