-- `grove tasks retry` starts tasks over: they must not resume an old decision.
DELETE FROM task_approvals WHERE task_id = ANY(:ids::text[])
