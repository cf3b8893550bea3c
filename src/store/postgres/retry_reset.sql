-- `grove tasks retry`: finished-unsuccessfully tasks start over (the target ready, the
-- dependents skipped because of it pending again, waiting for what is not terminal).
UPDATE tasks t
SET status = r.status, error = NULL, result = NULL, finished_at = NULL, run_after = 0,
    dep_failed = r.dep_failed, deps_waiting = r.deps_waiting, lease_expiries = 0
FROM json_to_recordset(:rows::json) AS r(id text, status text, deps_waiting integer, dep_failed text)
WHERE t.id = r.id AND t.status IN ('failed', 'cancelled', 'skipped') AND r.status IN ('ready', 'pending')
RETURNING t.id, t.tree_id, t.name
