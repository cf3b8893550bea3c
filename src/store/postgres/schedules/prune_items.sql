DELETE FROM schedule_run_items WHERE run_id IN (
  SELECT id FROM schedule_runs
  WHERE status <> 'running' AND finished_at < :before::bigint
    AND (:scope::text = '' OR owner = :scope::text OR starts_with(owner, :scope::text || '/')))
