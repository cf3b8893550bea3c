-- A dependency became terminal: every pending dependent waits for one less; a required
-- dependency that did not complete marks the dependent to be skipped.
UPDATE tasks
SET deps_waiting = tasks.deps_waiting - 1,
    dep_failed = CASE
      WHEN tasks.dep_failed IS NULL AND d.required = 1 AND :dep_ok = 0 THEN :dep_name
      ELSE tasks.dep_failed END
FROM task_deps d
WHERE d.dep_id = :dep_id AND tasks.id = d.task_id AND tasks.status = 'pending'
RETURNING tasks.id, tasks.tree_id, tasks.deps_waiting, tasks.dep_failed
