-- Why outcomes of a finish batch were refused: the task's current status and lease, and whether
-- the worker ever held it (a lost lease is a legitimate race; anything else is illegal).
SELECT r.n, t.status, t.lease_owner,
       EXISTS (SELECT 1 FROM attempts a WHERE a.task_id = r.id AND a.worker = r.worker) AS held_before
FROM json_to_recordset(:refused::json) AS r(n integer, id text, worker text)
LEFT JOIN tasks t ON t.id = r.id
ORDER BY r.n
