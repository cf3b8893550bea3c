UPDATE schedule_runs SET tree_id = :tree_id::text WHERE id = :id::text
