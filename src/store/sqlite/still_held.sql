SELECT id FROM tasks
WHERE lease_owner = :worker AND status = 'running' AND id IN (SELECT value FROM json_each(:ids))
