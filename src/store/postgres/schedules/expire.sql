-- Due slots found after end_at: those schedules will not fire again.
UPDATE schedules s SET next_due_at = NULL, updated_at = :now::bigint
FROM json_to_recordset(:rows::json) AS r(owner text, name text, version_id bigint, due_at bigint)
WHERE s.owner = r.owner AND s.name = r.name AND s.version_id = r.version_id AND s.next_due_at = r.due_at
