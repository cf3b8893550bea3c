DELETE FROM machines WHERE owner = :owner::text AND name = :name::text RETURNING name
