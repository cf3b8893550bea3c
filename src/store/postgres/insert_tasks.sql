-- All the tasks of a new tree in one statement.
INSERT INTO tasks (id, tree_id, parent_id, name, executor, inputs, dependencies, priority, retry,
                   timeout_ms, lease_ms, placement, owner, status, deps_waiting, created_at)
SELECT t.id, :tree_id::text, t.parent_id, t.name, t.executor, t.inputs::json, t.dependencies, t.priority,
       t.retry, t.timeout_ms, t.lease_ms, t.placement, :owner::text, t.status, t.deps_waiting, :now::bigint
FROM json_to_recordset(:tasks::json) AS t(id text, parent_id text, name text, executor text, inputs text,
  dependencies jsonb, priority integer, retry jsonb, timeout_ms bigint, lease_ms bigint, placement jsonb,
  status text, deps_waiting integer)
