-- A due slot found after end_at: the schedule will not fire again.
UPDATE schedules SET next_due_at = NULL, updated_at = :now
WHERE owner = :owner AND name = :name AND version_id = :version_id AND next_due_at = :due_at
