-- A tombstone: the name stops firing and listing; its versions and runs are kept.
UPDATE schedules SET deleted_at = :now::bigint, next_due_at = NULL, updated_at = :now::bigint
WHERE owner = :owner::text AND name = :name::text AND deleted_at IS NULL
RETURNING name
