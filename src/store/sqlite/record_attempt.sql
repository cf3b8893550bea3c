-- Records ended attempts (DESIGN §4: every attempt is kept with its outcome). Running attempts
-- have no row: their worker and start are in the task row (attempt_started_at, lease_owner).
-- The store repeats the VALUES row once per attempt (task_id, attempt, worker, started_at,
-- finished_at, outcome, resolved_inputs, error). The upsert also closes rows opened at claim
-- time by grove versions before migration 008.
INSERT INTO attempts (task_id, attempt, worker, started_at, finished_at, outcome, resolved_inputs, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (task_id, attempt) DO UPDATE
SET finished_at = excluded.finished_at, outcome = excluded.outcome,
    resolved_inputs = excluded.resolved_inputs, error = excluded.error
