INSERT INTO task_deps (dep_id, task_id, required) VALUES (:dep_id, :task_id, :required)
