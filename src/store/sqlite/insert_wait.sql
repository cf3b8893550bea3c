-- A pending task starts waiting for its dependencies (on creation, and again after a retry).
INSERT OR REPLACE INTO task_waits (task_id, tree_id, deps_waiting, dep_failed)
VALUES (:task_id, :tree_id, :deps_waiting, :dep_failed)
