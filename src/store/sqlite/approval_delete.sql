-- `grove tasks retry` starts a task over: it must not resume an old decision.
DELETE FROM task_approvals WHERE task_id = :task_id
