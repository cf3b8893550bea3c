-- pending → skipped: a required dependency ended failed, cancelled or skipped.
UPDATE tasks SET status = 'skipped', error = :error, finished_at = :now
WHERE id = :id AND status = 'pending'
RETURNING tree_id, name
