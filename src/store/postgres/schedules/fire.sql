-- Records one firing per locked row, guarded on the due slot that was read.
UPDATE schedules s
SET run_count = s.run_count + 1, last_fired_at = :now::bigint, next_due_at = r.next_due_at,
    last_status = 'running', last_run_id = r.run_id, updated_at = :now::bigint
FROM json_to_recordset(:rows::json) AS r(owner text, name text, version_id bigint, due_at bigint, next_due_at bigint, run_id text)
WHERE s.owner = r.owner AND s.name = r.name AND s.version_id = r.version_id AND s.next_due_at = r.due_at
  AND s.enabled AND s.deleted_at IS NULL
RETURNING r.run_id
