-- One attempt row per claimed task (attempt = the task's attempts counter after the claim).
INSERT INTO attempts (task_id, attempt, worker, started_at, outcome)
SELECT a.task_id, a.attempt, :worker::text, :now::bigint, 'running'
FROM json_to_recordset(:rows::json) AS a(task_id text, attempt integer)
