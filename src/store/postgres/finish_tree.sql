-- A tree's status follows its root's (DESIGN §4): a skipped root fails the tree.
UPDATE trees tr
SET status = CASE d.status
      WHEN 'completed' THEN 'completed'
      WHEN 'cancelled' THEN 'cancelled'
      ELSE 'failed' END,
    finished_at = :now::bigint
FROM json_to_recordset(:roots::json) AS d(id text, tree_id text, status text)
WHERE tr.id = d.tree_id AND tr.root_id = d.id AND tr.status = 'running'
  AND d.status IN ('completed', 'failed', 'cancelled', 'skipped')
RETURNING tr.id, tr.status, d.status AS root_status
