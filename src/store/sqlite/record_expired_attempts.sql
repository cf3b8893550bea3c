-- Records the attempts whose lease expired, before recover_expired / fail_expired clear the
-- lease owner: the expired attempt keeps the worker that lost it (a late outcome from that
-- worker is then recognised as a lost race, not an illegal transition).
INSERT INTO attempts (task_id, attempt, worker, started_at, finished_at, outcome, resolved_inputs, error)
SELECT id, attempts, COALESCE(lease_owner, ''), COALESCE(attempt_started_at, started_at, :now), :now, 'lease_expired', NULL,
       CASE WHEN lease_expiries + 1 >= :max_expiries THEN :error END
FROM tasks
WHERE status = 'running' AND lease_expires_at < :now
ON CONFLICT (task_id, attempt) DO UPDATE
SET finished_at = excluded.finished_at, outcome = excluded.outcome, error = excluded.error
