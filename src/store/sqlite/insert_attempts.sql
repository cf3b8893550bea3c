-- Opens the attempt row of a claimed task.
INSERT INTO attempts (task_id, attempt, worker, started_at, outcome) VALUES (:task_id, :attempt, :worker, :now, 'running')
