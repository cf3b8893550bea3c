-- The common finish in ONE statement: every outcome of the batch a success. running →
-- completed where the worker still holds the lease (complete.sql), the attempt rows closed
-- (finish_attempt.sql), the trees whose root this is completed (finish_tree.sql) and the first
-- level of dependents released (release_dependents.sql with every dependency ok: a dependent
-- that becomes skipped had a failed dependency before, and the caller feeds it back in as the
-- next level). The CTEs touch different rows (running tasks, then pending dependents), and the
-- dependents' new values are computed from their rows as this statement locked them.
WITH o AS MATERIALIZED (
  SELECT * FROM ROWS FROM (json_to_recordset(:outcomes::json) AS (id text, worker text, result text, resolved_inputs text))
  WITH ORDINALITY AS o(id, worker, result, resolved_inputs, n)
), done AS (
  UPDATE tasks t
  SET status = 'completed', result = o.result::json, error = NULL, finished_at = :now::bigint,
      lease_owner = NULL, lease_expires_at = NULL, lease_expiries = 0
  FROM o
  WHERE t.id = o.id AND t.status = 'running' AND t.lease_owner = o.worker
    -- Id-list probes throughout: the planner cannot size a recordset (see complete.sql).
    AND t.id = ANY(ARRAY(SELECT id FROM o))
  RETURNING t.id, t.tree_id, t.name, t.attempts
), attempt AS (
  UPDATE attempts a
  SET finished_at = :now::bigint, outcome = 'completed', resolved_inputs = o.resolved_inputs::json, error = NULL
  FROM done d JOIN o ON o.id = d.id
  WHERE a.task_id = d.id AND a.attempt = d.attempts
    AND a.task_id = ANY(ARRAY(SELECT id FROM o))
), tree AS (
  UPDATE trees tr
  SET status = 'completed', finished_at = :now::bigint
  FROM done d
  WHERE tr.id = d.tree_id AND tr.root_id = d.id AND tr.status = 'running'
    AND tr.id = ANY(ARRAY(SELECT tree_id FROM done))
  RETURNING tr.id
), hit AS (
  SELECT td.task_id, count(*)::integer AS n
  FROM task_deps td JOIN done d ON d.id = td.dep_id
  WHERE td.dep_id = ANY(ARRAY(SELECT id FROM done))
  GROUP BY td.task_id
  ORDER BY td.task_id
), released AS (
  UPDATE tasks t
  SET deps_waiting = t.deps_waiting - hit.n,
      status = CASE
        WHEN t.deps_waiting - hit.n > 0 THEN 'pending'
        WHEN t.dep_failed IS NULL THEN 'ready'
        ELSE 'skipped' END,
      error = CASE
        WHEN t.deps_waiting - hit.n > 0 OR t.dep_failed IS NULL THEN t.error
        ELSE json_build_object(
          'type', 'dependency_failed',
          'message', format('dependency "%s" did not complete', t.dep_failed),
          'details', json_build_object('dependency', t.dep_failed)) END,
      finished_at = CASE
        WHEN t.deps_waiting - hit.n <= 0 AND t.dep_failed IS NOT NULL THEN :now::bigint
        ELSE t.finished_at END
  FROM hit
  WHERE t.id = hit.task_id AND t.status = 'pending'
    AND t.id = ANY(ARRAY(SELECT task_id FROM hit))
  RETURNING t.id, t.tree_id, t.name, t.status, t.error
)
-- finish_commit.sql replaces what follows (the statements share the CTEs above).
/*select*/
SELECT 'done' AS kind, id, tree_id, name, attempts, NULL AS status, NULL::json AS error FROM done
UNION ALL
SELECT 'tree', id, id, NULL, NULL, 'completed', NULL FROM tree
UNION ALL
SELECT 'released', id, tree_id, name, NULL, status, error FROM released
