INSERT INTO schedule_runs (id, owner, name, version, version_id, due_at, status, runner, lease_expires_at, started_at)
SELECT r.id, r.owner, r.name, r.version, r.version_id, r.due_at, 'running', :runner::text, :now::bigint + :lease_ms::bigint, :now::bigint
FROM json_to_recordset(:rows::json) AS r(id text, owner text, name text, version integer, version_id bigint, due_at bigint)
RETURNING *
