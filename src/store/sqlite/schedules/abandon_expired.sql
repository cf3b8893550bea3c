-- Runs whose runner stopped heartbeating (it died mid-run): abandoned, never silently lost.
UPDATE schedule_runs
SET status = 'abandoned', finished_at = :now, lease_expires_at = NULL,
    error = json_object('type', 'abandoned', 'message',
      'runner ' || runner || ' stopped heartbeating; the lease expired at '
      || strftime('%Y-%m-%dT%H:%M:%fZ', lease_expires_at / 1000.0, 'unixepoch') || ' before the run finished')
WHERE status = 'running' AND lease_expires_at < :now
  AND (:scope = '' OR owner = :scope OR substr(owner, 1, length(:scope) + 1) = :scope || '/')
RETURNING *
