-- Approvals (DESIGN §9): a task paused by an executor that threw ApprovalRequired. One row per
-- task that ever paused, kept out of `tasks` so the hot row stays narrow (the executor's `state`
-- — an agent's whole conversation — can be large). A new pause overwrites the row (the history is
-- in the events: task.waiting_approval, task.approved, task.rejected); `grove tasks retry`
-- deletes it, so a task started over does not resume an old decision.
CREATE TABLE task_approvals (
  task_id      TEXT PRIMARY KEY REFERENCES tasks (id),
  tree_id      TEXT NOT NULL,
  attempt      INTEGER NOT NULL,            -- the attempt that paused
  request      TEXT NOT NULL,               -- JSON ApprovalRequest {command, reasons, risk, machine?}
  state        TEXT NOT NULL,               -- JSON, the executor's own, handed back in ctx.resume
  requested_at INTEGER NOT NULL,
  decision     TEXT CHECK (decision IN ('approved', 'rejected')), -- NULL while waiting
  decided_by   TEXT,
  reason       TEXT,
  decided_at   INTEGER
);
CREATE INDEX task_approvals_tree ON task_approvals (tree_id);
