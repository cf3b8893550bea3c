INSERT INTO events (tree_id, task_id, type, data, at) VALUES (:tree_id, :task_id, :type, :data, :at)
