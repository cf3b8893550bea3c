-- finishAndClaim's common case in the round trip that also carries COMMIT: finish_completed.sql's
-- CTEs (spliced in above this text), plus the events they make — task.completed in outcome order,
-- tree.completed, task.ready by id — in one INSERT (so seq follows that order) and the NOTIFY of
-- the trees that got ready tasks. What the caller would otherwise check before committing is
-- checked here, and raises grove_fallback() (SQLSTATE GR001), which aborts the transaction
-- (its pipelined COMMIT then rolls back) so that the caller runs the batch again on the general
-- path: an outcome refused (lease lost, or an illegal transition to report), or a dependent
-- skipped (its own dependents are released level by level).
, ev AS (
  INSERT INTO events (tree_id, task_id, type, data, at)
  SELECT e.tree_id, e.task_id, e.type, e.data, :now::bigint
  FROM (
    SELECT 1 AS g, min(o.n) AS k, d.id AS kid, d.tree_id, d.id AS task_id, 'task.completed' AS type,
           json_build_object('name', d.name, 'attempt', d.attempts) AS data
    FROM done d JOIN o ON o.id = d.id
    GROUP BY d.id, d.tree_id, d.name, d.attempts
    UNION ALL
    SELECT 2, 0, tr.id, tr.id, NULL, 'tree.completed', json_build_object('root_status', 'completed') FROM tree tr
    UNION ALL
    SELECT 3, 0, r.id, r.tree_id, r.id, 'task.ready', '{}'::json FROM released r WHERE r.status = 'ready'
  ) e
  ORDER BY e.g, e.k, e.kid
  RETURNING seq, tree_id, task_id, type, data
), woken AS (
  SELECT pg_notify('grove_ready', r.tree_id) FROM (SELECT DISTINCT tree_id FROM released WHERE status = 'ready') r
)
-- One row whatever happened, so that the check always runs.
SELECT (SELECT json_agg(json_build_object('seq', seq, 'tree_id', tree_id, 'task_id', task_id, 'type', type, 'data', data) ORDER BY seq) FROM ev) AS events,
       (SELECT count(*) FROM woken) AS woken,
       CASE WHEN (SELECT count(*) FROM done) < (SELECT count(DISTINCT id) FROM o)
              OR EXISTS (SELECT 1 FROM released WHERE status = 'skipped')
            THEN grove_fallback('finish batch needs the general path') END AS fallback
