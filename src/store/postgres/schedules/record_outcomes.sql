-- Runs of the live version ended: their schedules' last status, last error and error count.
UPDATE schedules s
SET last_status = r.status,
    error_count = s.error_count + r.failed,
    last_error = CASE WHEN r.failed = 1 THEN r.error::json ELSE s.last_error END,
    updated_at = :now::bigint
FROM json_to_recordset(:rows::json) AS r(owner text, name text, version_id bigint, status text, failed integer, error text)
WHERE s.owner = r.owner AND s.name = r.name AND s.version_id = r.version_id
