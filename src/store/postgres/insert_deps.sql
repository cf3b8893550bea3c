INSERT INTO task_deps (dep_id, task_id, required)
SELECT d.dep_id, d.task_id, d.required
FROM json_to_recordset(:deps::json) AS d(dep_id text, task_id text, required boolean)
