-- A set of tasks became terminal: every pending dependent waits for that many fewer. A required
-- dependency that did not complete marks the dependent to be skipped. A dependent left waiting
-- for nothing becomes ready, or skipped (pending → skipped) when a required dependency failed;
-- the caller feeds the skipped ones back in as the next set (transitive skipping).
-- Every new value is computed from the row as locked by this UPDATE (t.*), never from an earlier
-- read: two transactions releasing the same dependent serialise on its row lock and the second
-- sees the first one's decrement.
WITH done AS (
  SELECT * FROM json_to_recordset(:done::json) AS d(id text, name text, ok boolean)
), hit AS (
  SELECT td.task_id,
         count(*)::integer AS n,
         min(done.name) FILTER (WHERE td.required AND NOT done.ok) AS failed
  FROM task_deps td JOIN done ON done.id = td.dep_id
  -- An explicit id list lets the planner probe task_deps' (dep_id, …) index instead of hashing
  -- the whole table against a recordset it cannot estimate.
  WHERE td.dep_id = ANY(ARRAY(SELECT id FROM done))
  GROUP BY td.task_id
  ORDER BY td.task_id
)
UPDATE tasks t
SET deps_waiting = t.deps_waiting - hit.n,
    dep_failed = COALESCE(t.dep_failed, hit.failed),
    status = CASE
      WHEN t.deps_waiting - hit.n > 0 THEN 'pending'
      WHEN COALESCE(t.dep_failed, hit.failed) IS NULL THEN 'ready'
      ELSE 'skipped' END,
    error = CASE
      WHEN t.deps_waiting - hit.n > 0 OR COALESCE(t.dep_failed, hit.failed) IS NULL THEN t.error
      ELSE json_build_object(
        'type', 'dependency_failed',
        'message', format('dependency "%s" did not complete', COALESCE(t.dep_failed, hit.failed)),
        'details', json_build_object('dependency', COALESCE(t.dep_failed, hit.failed))) END,
    finished_at = CASE
      WHEN t.deps_waiting - hit.n <= 0 AND COALESCE(t.dep_failed, hit.failed) IS NOT NULL THEN :now::bigint
      ELSE t.finished_at END
FROM hit
WHERE t.id = hit.task_id AND t.status = 'pending'
  AND t.id = ANY(ARRAY(SELECT task_id FROM hit))
RETURNING t.id, t.tree_id, t.name, t.status, t.error
