UPDATE schedule_runs SET tree_id = :tree_id WHERE id = :id
