-- An attempt's row is written once, when it ends (record_attempt.sql), instead of inserted when
-- the task is claimed and updated when it finishes: one b-tree write per task less on the hot
-- path. The running attempt's start lives in the task row, which the claim rewrites anyway.
ALTER TABLE tasks ADD COLUMN attempt_started_at INTEGER;
UPDATE tasks SET attempt_started_at = (
  SELECT a.started_at FROM attempts a WHERE a.task_id = tasks.id AND a.attempt = tasks.attempts
) WHERE status = 'running';
