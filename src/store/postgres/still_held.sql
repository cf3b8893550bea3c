SELECT id FROM tasks
WHERE id = ANY(:ids::text[]) AND lease_owner = :worker::text AND status = 'running'
