-- `grove tasks retry`: a finished-unsuccessfully task starts over; its dependents wait again.
UPDATE tasks
SET status = :status, error = NULL, result = NULL, finished_at = NULL, run_after = 0,
    dep_failed = :dep_failed, deps_waiting = :deps_waiting, lease_expiries = 0
WHERE id = :id AND status IN ('failed', 'cancelled', 'skipped')
