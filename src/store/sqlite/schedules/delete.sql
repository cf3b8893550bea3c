-- A tombstone: the name stops firing and listing; its versions and runs are kept.
UPDATE schedules SET deleted_at = :now, next_due_at = NULL, updated_at = :now
WHERE owner = :owner AND name = :name AND deleted_at IS NULL
