-- A claim in ONE statement, so that it costs one round trip and, on its own, no explicit
-- transaction: claim.sql or claim_tree.sql (spliced in at the marker below) moves the tasks to
-- running, and the same statement inserts their attempt rows and task.started events (in claim
-- order, so seq follows it) and joins each task with its tree's name and inputs and its decided
-- approval (the engine's ctx.resume). Inside finishAndClaim it runs after the finish's own events were inserted, so the
-- events keep the order finish → start.
WITH claimed AS (
/*claim*/
), attempt AS (
  INSERT INTO attempts (task_id, attempt, worker, started_at, outcome)
  SELECT c.id, c.attempts, :worker::text, :now::bigint, 'running' FROM claimed c
), started AS (
  INSERT INTO events (tree_id, task_id, type, data, at)
  SELECT c.tree_id, c.id, 'task.started', json_build_object('name', c.name, 'attempt', c.attempts, 'worker', :worker::text), :now::bigint
  FROM claimed c
  ORDER BY c.priority, c.created_at, c.id
  RETURNING seq, task_id
)
SELECT c.*, s.seq AS started_seq, tr.name AS tree_name, tr.inputs AS tree_inputs,
       a.decision AS resume_decision, a.request AS resume_request, a.state AS resume_state,
       a.decided_by AS resume_by, a.reason AS resume_reason
FROM claimed c
JOIN started s ON s.task_id = c.id
JOIN trees tr ON tr.id = c.tree_id
LEFT JOIN task_approvals a ON a.task_id = c.id AND a.decision IS NOT NULL
