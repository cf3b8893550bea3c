-- A set of tasks became terminal: every waiting dependent waits for that many fewer; a required
-- dependency that did not complete marks the dependent to be skipped. One statement per level
-- of the DAG (the caller feeds the dependents skipped here back in as the next set). The store
-- repeats the VALUES row (id, name, ok) once per finished task, up to 32 a statement; a dependent
-- counted down by two statements of one level reaches 0 only in the second.
WITH done (id, name, ok) AS (
  VALUES (?, ?, ?)
), hit AS (
  SELECT td.task_id, count(*) AS n,
         min(CASE WHEN td.required = 1 AND done.ok = 0 THEN done.name END) AS failed
  FROM task_deps td JOIN done ON done.id = td.dep_id
  GROUP BY td.task_id
)
UPDATE task_waits
SET deps_waiting = task_waits.deps_waiting - hit.n,
    dep_failed = COALESCE(task_waits.dep_failed, hit.failed)
FROM hit
WHERE task_waits.task_id = hit.task_id
RETURNING task_waits.task_id AS id, task_waits.tree_id, task_waits.deps_waiting, task_waits.dep_failed
