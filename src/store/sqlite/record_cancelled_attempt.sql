-- A running task is being cancelled: its attempt ends here, with the worker that ran it (the
-- worker's own outcome, arriving later, is refused).
INSERT INTO attempts (task_id, attempt, worker, started_at, finished_at, outcome, resolved_inputs, error)
SELECT id, attempts, COALESCE(lease_owner, ''), COALESCE(attempt_started_at, started_at, :now), :now, 'cancelled', NULL, :error
FROM tasks
WHERE id = :id AND status = 'running'
ON CONFLICT (task_id, attempt) DO UPDATE
SET finished_at = excluded.finished_at, outcome = excluded.outcome, error = excluded.error
