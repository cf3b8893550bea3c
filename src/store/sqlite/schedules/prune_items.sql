DELETE FROM schedule_run_items WHERE run_id IN (
  SELECT id FROM schedule_runs
  WHERE status <> 'running' AND finished_at < :before
    AND (:scope = '' OR owner = :scope OR substr(owner, 1, length(:scope) + 1) = :scope || '/'))
