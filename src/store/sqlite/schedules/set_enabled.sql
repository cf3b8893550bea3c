UPDATE schedules SET enabled = :enabled, updated_at = :now
WHERE owner = :owner AND name = :name AND deleted_at IS NULL
