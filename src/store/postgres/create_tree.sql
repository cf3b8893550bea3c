-- A new tree in ONE statement (autocommit: one round trip, one commit): the tree row, all its
-- tasks, their dependency edges, one task.created event per task (in the order given, so seq
-- follows it) and, when any task starts ready, the NOTIFY that wakes the workers (delivered at
-- commit; the channel is READY_CHANNEL of postgres-store.ts). The foreign key of tasks → trees
-- is checked at the end of the statement, when the tree row is there.
WITH tree AS (
  INSERT INTO trees (id, name, owner, inputs, root_id, status, created_at)
  VALUES (:id::text, :name::text, :owner::text, :inputs::json, :root_id::text, 'running', :now::bigint)
  RETURNING *
), src AS MATERIALIZED (
  SELECT * FROM ROWS FROM (json_to_recordset(:tasks::json) AS (id text, parent_id text, name text, executor text,
    inputs text, dependencies jsonb, priority integer, retry jsonb, timeout_ms bigint, lease_ms bigint, placement jsonb,
    status text, deps_waiting integer))
  WITH ORDINALITY AS t(id, parent_id, name, executor, inputs, dependencies, priority, retry, timeout_ms, lease_ms,
    placement, status, deps_waiting, n)
), task AS (
  INSERT INTO tasks (id, tree_id, parent_id, name, executor, inputs, dependencies, priority, retry,
                     timeout_ms, lease_ms, placement, owner, status, deps_waiting, created_at)
  SELECT s.id, :id::text, s.parent_id, s.name, s.executor, s.inputs::json, s.dependencies, s.priority,
         s.retry, s.timeout_ms, s.lease_ms, s.placement, :owner::text, s.status, s.deps_waiting, :now::bigint
  FROM src s
), dep AS (
  INSERT INTO task_deps (dep_id, task_id, required)
  SELECT d.dep_id, d.task_id, d.required
  FROM json_to_recordset(:deps::json) AS d(dep_id text, task_id text, required boolean)
), created AS (
  INSERT INTO events (tree_id, task_id, type, data, at)
  SELECT :id::text, s.id, 'task.created', json_build_object('name', s.name, 'executor', s.executor, 'status', s.status), :now::bigint
  FROM src s
  ORDER BY s.n
  RETURNING seq
), woken AS (
  SELECT pg_notify('grove_ready', :id::text) FROM (SELECT 1 FROM src WHERE status = 'ready' LIMIT 1) AS any_ready
)
SELECT tr.*, ARRAY(SELECT seq FROM created ORDER BY seq) AS seqs, (SELECT count(*) FROM woken) AS woken
FROM tree tr
