-- `grove tasks retry`: a finished-unsuccessfully task starts over; its dependents wait again
-- (their task_waits rows are written by insert_wait.sql).
UPDATE tasks
SET status = :status, error = NULL, result = NULL, finished_at = NULL, run_after = 0, lease_expiries = 0
WHERE id = :id AND status IN ('failed', 'cancelled', 'skipped')
