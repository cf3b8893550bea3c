-- Approvals (DESIGN §9) for PostgreSQL: the same table as the SQLite store's 004_approvals.sql.
-- One row per task that ever paused, out of `tasks` so the hot row stays narrow (`state` may be
-- an agent's whole conversation). A new pause overwrites it; `grove tasks retry` deletes it.
-- json (not jsonb) for request and state: executor text, kept as written, \u0000 accepted.
CREATE TABLE task_approvals (
  task_id      text COLLATE "C" PRIMARY KEY REFERENCES tasks (id),
  tree_id      text COLLATE "C" NOT NULL,
  attempt      integer NOT NULL,
  request      json NOT NULL,
  state        json NOT NULL,
  requested_at bigint NOT NULL,
  decision     text CHECK (decision IN ('approved', 'rejected')),
  decided_by   text,
  reason       text,
  decided_at   bigint
);
CREATE INDEX task_approvals_tree ON task_approvals (tree_id);
