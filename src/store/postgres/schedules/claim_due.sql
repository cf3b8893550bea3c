-- The due schedules of a scope, earliest first, locked for this claim. FOR UPDATE SKIP LOCKED:
-- concurrent claimers take different rows without waiting; a row another claimer fired and
-- committed meanwhile is re-checked against its new next_due_at and left out. Scope is matched on
-- whole path segments (starts_with on scope || '/'), never with LIKE.
SELECT s.owner, s.name, s.version_id, s.version, s.run_count, s.next_due_at,
       v.kind, v.at, v.every_ms, v.cron, v.tz, v.max_runs, v.start_at, v.end_at, v.target, v.created_at
FROM schedules s JOIN schedule_versions v ON v.id = s.version_id
WHERE s.enabled AND s.deleted_at IS NULL AND s.next_due_at <= :now::bigint
  AND (:scope::text = '' OR s.owner = :scope::text OR starts_with(s.owner, :scope::text || '/'))
ORDER BY s.next_due_at, s.owner, s.name
LIMIT :limit::bigint
FOR UPDATE OF s SKIP LOCKED
