-- One attempt row per claimed task (attempt = the task's attempts counter after the claim).
INSERT INTO attempts (task_id, attempt, worker, started_at, outcome)
SELECT a.value ->> 'task_id', a.value ->> 'attempt', :worker, :now, 'running'
FROM json_each(:rows) AS a
