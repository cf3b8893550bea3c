-- Records one firing of the due slot :due_at. Guarded on that slot, so a slot is taken once even
-- if two claims read the same row.
UPDATE schedules
SET run_count = run_count + 1, last_fired_at = :now, next_due_at = :next_due_at,
    last_status = 'running', last_run_id = :run_id, updated_at = :now
WHERE owner = :owner AND name = :name AND version_id = :version_id AND next_due_at = :due_at
  AND enabled = 1 AND deleted_at IS NULL
