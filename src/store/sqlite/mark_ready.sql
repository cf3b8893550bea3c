UPDATE tasks SET status = 'ready' WHERE id = :id AND status = 'pending'
