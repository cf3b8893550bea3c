UPDATE schedules SET enabled = :enabled::boolean, updated_at = :now::bigint
WHERE owner = :owner::text AND name = :name::text AND deleted_at IS NULL
RETURNING name
