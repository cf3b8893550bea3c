UPDATE trees SET status = :status, finished_at = :now WHERE id = :id AND status = 'running'
