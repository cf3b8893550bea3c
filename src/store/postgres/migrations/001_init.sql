-- grove schema v1 for PostgreSQL: the same tables and columns as the SQLite store (its 001 + 002),
-- so a Task row has the same shape in both. Times are bigint epoch milliseconds (not timestamptz)
-- for that reason. Ids and owner scopes are compared byte-wise (COLLATE "C") whatever the
-- database locale, so ordering by id and prefix matching behave like SQLite.
--
-- JSON columns: jsonb where the database looks inside or the shape is ours (placement: jsonb
-- containment in claim; retry, dependencies); json for everything that carries user or executor
-- text (inputs, result, error, event data, resolved inputs): stored as written (key order kept),
-- cheaper to insert, and it accepts \u0000 in strings, which jsonb refuses (a command's output
-- may contain NUL bytes).

CREATE TABLE trees (
  id          text COLLATE "C" PRIMARY KEY,
  name        text NOT NULL,
  owner       text COLLATE "C" NOT NULL,
  inputs      json NOT NULL,
  root_id     text COLLATE "C" NOT NULL,
  status      text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
  created_at  bigint NOT NULL,
  finished_at bigint
);
CREATE INDEX trees_owner ON trees (owner, created_at);

CREATE TABLE tasks (
  id               text COLLATE "C" PRIMARY KEY,
  tree_id          text COLLATE "C" NOT NULL REFERENCES trees (id),
  parent_id        text COLLATE "C",
  name             text NOT NULL,
  executor         text NOT NULL,
  inputs           json NOT NULL,
  dependencies     jsonb NOT NULL,
  priority         integer NOT NULL,
  retry            jsonb NOT NULL,
  timeout_ms       bigint,
  -- per-task lease length (DESIGN §4 leases; null = the worker's lease)
  lease_ms         bigint,
  placement        jsonb NOT NULL DEFAULT '{}',
  owner            text COLLATE "C" NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'ready', 'running', 'waiting_approval',
                                                   'completed', 'failed', 'cancelled', 'skipped')),
  result           json,
  error            json,
  attempts         integer NOT NULL DEFAULT 0,
  run_after        bigint NOT NULL DEFAULT 0,
  lease_owner      text,
  lease_expires_at bigint,
  lease_expiries   integer NOT NULL DEFAULT 0,
  -- dependencies not yet terminal; the task becomes ready (or skipped) when it reaches 0
  deps_waiting     integer NOT NULL DEFAULT 0,
  -- name of the first required dependency that ended failed|cancelled|skipped
  dep_failed       text,
  created_at       bigint NOT NULL,
  started_at       bigint,
  finished_at      bigint,
  UNIQUE (tree_id, name)
);
-- The claim queue: any tree (`grove worker`) and one tree (`grove run`).
CREATE INDEX tasks_ready ON tasks (priority, created_at, id) WHERE status = 'ready';
CREATE INDEX tasks_ready_tree ON tasks (tree_id, priority, created_at, id) WHERE status = 'ready';
CREATE INDEX tasks_lease ON tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_owner ON tasks (owner, created_at);

-- Edges of the DAG, keyed by the dependency so that finishing a task finds its dependents fast.
CREATE TABLE task_deps (
  dep_id   text COLLATE "C" NOT NULL,
  task_id  text COLLATE "C" NOT NULL,
  required boolean NOT NULL,
  PRIMARY KEY (dep_id, task_id)
);
CREATE INDEX task_deps_task ON task_deps (task_id);

CREATE TABLE attempts (
  task_id         text COLLATE "C" NOT NULL,
  attempt         integer NOT NULL,
  worker          text NOT NULL,
  started_at      bigint NOT NULL,
  finished_at     bigint,
  outcome         text NOT NULL,
  resolved_inputs json,
  error           json,
  PRIMARY KEY (task_id, attempt)
);

-- Append-only: rows are never updated or deleted; seq orders every tree's events.
-- seq comes from a sequence, so it is assigned at insert, not at commit: see the note on
-- commit order in postgres-store.ts. `xid` records the inserting transaction so that a
-- streaming reader can hold back rows of transactions that may still commit below its cursor.
CREATE TABLE events (
  seq     bigserial PRIMARY KEY,
  tree_id text COLLATE "C" NOT NULL,
  task_id text COLLATE "C",
  type    text NOT NULL,
  data    json NOT NULL,
  at      bigint NOT NULL,
  xid     xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_tree ON events (tree_id, seq);
CREATE INDEX events_task ON events (task_id, seq);

CREATE FUNCTION grove_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only';
END
$$;
CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION grove_events_append_only();
CREATE TRIGGER events_append_only_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION grove_events_append_only();
