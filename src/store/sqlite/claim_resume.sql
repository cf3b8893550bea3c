-- The decided approvals of just-claimed tasks: what the engine hands the executor as ctx.resume.
SELECT a.task_id, a.request, a.state, a.decision, a.decided_by, a.reason
FROM task_approvals a
WHERE a.task_id IN (SELECT value FROM json_each(:ids)) AND a.decision IS NOT NULL
