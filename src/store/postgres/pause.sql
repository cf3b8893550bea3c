-- running → waiting_approval for a batch (executors that threw ApprovalRequired), only where the
-- worker still holds the lease, and the pending request + executor state stored in the same
-- statement (task_approvals; a previous pause's row and decision are replaced). The lease is
-- released: a paused task holds no worker slot and lease recovery (running only) never sees it.
WITH o AS (
  SELECT DISTINCT ON (id) * FROM json_to_recordset(:outcomes::json) AS o(id text, worker text, request text, state text)
  ORDER BY id
), paused AS (
  UPDATE tasks t
  SET status = 'waiting_approval', lease_owner = NULL, lease_expires_at = NULL
  FROM o
  WHERE t.id = o.id AND t.status = 'running' AND t.lease_owner = o.worker
  RETURNING t.id, t.tree_id, t.name, t.attempts
), saved AS (
  INSERT INTO task_approvals AS a (task_id, tree_id, attempt, request, state, requested_at)
  SELECT p.id, p.tree_id, p.attempts, o.request::json, o.state::json, :now::bigint
  FROM paused p JOIN o ON o.id = p.id
  ON CONFLICT (task_id) DO UPDATE
  SET tree_id = excluded.tree_id, attempt = excluded.attempt, request = excluded.request, state = excluded.state,
      requested_at = excluded.requested_at, decision = NULL, decided_by = NULL, reason = NULL, decided_at = NULL
)
SELECT id, tree_id, name, attempts FROM paused
