-- A run of the live version ended: its schedule's last status, last error and error count.
UPDATE schedules
SET last_status = :status,
    error_count = error_count + :failed,
    last_error = CASE WHEN :failed = 1 THEN :error ELSE last_error END,
    updated_at = :now
WHERE owner = :owner AND name = :name AND version_id = :version_id
