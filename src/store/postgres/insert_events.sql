-- Appends a transaction's events in one statement, in the order given (seq follows it).
INSERT INTO events (tree_id, task_id, type, data, at)
SELECT e.tree_id, e.task_id, e.type, e.data::json, e.at
FROM ROWS FROM (json_to_recordset(:events::json) AS (tree_id text, task_id text, type text, data text, at bigint))
     WITH ORDINALITY AS e(tree_id, task_id, type, data, at, n)
ORDER BY e.n
RETURNING seq
