INSERT INTO schedule_runs (id, owner, name, version, version_id, due_at, status, runner, lease_expires_at, started_at)
VALUES (:id, :owner, :name, :version, :version_id, :due_at, 'running', :runner, :now + :lease_ms, :now)
RETURNING *
