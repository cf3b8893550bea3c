DELETE FROM machines WHERE owner = :owner AND name = :name
