-- The due schedules of a scope, earliest first (read inside the claim's immediate transaction).
-- Scope is matched on whole path segments, never with LIKE.
SELECT s.owner, s.name, s.version_id, s.version, s.run_count, s.next_due_at,
       v.kind, v.at, v.every_ms, v.cron, v.tz, v.max_runs, v.start_at, v.end_at, v.target, v.created_at
FROM schedules s JOIN schedule_versions v ON v.id = s.version_id
WHERE s.enabled = 1 AND s.deleted_at IS NULL AND s.next_due_at IS NOT NULL AND s.next_due_at <= :now
  AND (:scope = '' OR s.owner = :scope OR substr(s.owner, 1, length(:scope) + 1) = :scope || '/')
ORDER BY s.next_due_at, s.owner, s.name
LIMIT :limit
