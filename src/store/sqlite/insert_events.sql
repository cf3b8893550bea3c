-- Appends a transaction's events in one statement, in the order given (seq follows it).
INSERT INTO events (tree_id, task_id, type, data, at)
SELECT e.value ->> 'tree_id', e.value ->> 'task_id', e.value ->> 'type', e.value ->> 'data', e.value ->> 'at'
FROM json_each(:events) AS e
ORDER BY e.key
RETURNING seq
