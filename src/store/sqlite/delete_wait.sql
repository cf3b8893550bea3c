-- The task left pending (ready, skipped or cancelled): it waits for nothing any more.
DELETE FROM task_waits WHERE task_id = :task_id
