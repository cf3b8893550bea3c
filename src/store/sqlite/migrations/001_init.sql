-- grove schema v1. Times are epoch milliseconds; JSON columns hold text.
CREATE TABLE trees (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  owner       TEXT NOT NULL,
  inputs      TEXT NOT NULL,
  root_id     TEXT NOT NULL,
  status      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX trees_owner ON trees (owner, created_at);

CREATE TABLE tasks (
  id               TEXT PRIMARY KEY,
  tree_id          TEXT NOT NULL REFERENCES trees (id),
  parent_id        TEXT,
  name             TEXT NOT NULL,
  executor         TEXT NOT NULL,
  inputs           TEXT NOT NULL,
  dependencies     TEXT NOT NULL,
  priority         INTEGER NOT NULL,
  retry            TEXT NOT NULL,
  timeout_ms       INTEGER,
  placement        TEXT NOT NULL DEFAULT '{}',
  owner            TEXT NOT NULL,
  status           TEXT NOT NULL,
  result           TEXT,
  error            TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  run_after        INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  lease_expiries   INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  UNIQUE (tree_id, name)
);
CREATE INDEX tasks_ready ON tasks (priority, created_at, id) WHERE status = 'ready';
CREATE INDEX tasks_lease ON tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_owner ON tasks (owner, created_at);

-- One row per pending task with dependencies: how many are not terminal yet (it becomes ready, or
-- skipped, at 0) and the first required one that did not complete. Kept out of `tasks` so that
-- counting down does not rewrite a wide row: a root with 20,000 children carries a 1 MB
-- `dependencies` column, and SQLite rewrites the whole record on any update.
CREATE TABLE task_waits (
  task_id      TEXT PRIMARY KEY,
  tree_id      TEXT NOT NULL,
  deps_waiting INTEGER NOT NULL,
  dep_failed   TEXT
) WITHOUT ROWID;

-- Edges of the DAG, keyed by the dependency so that finishing a task finds its dependents fast.
CREATE TABLE task_deps (
  dep_id   TEXT NOT NULL,
  task_id  TEXT NOT NULL,
  required INTEGER NOT NULL,
  PRIMARY KEY (dep_id, task_id)
) WITHOUT ROWID;

CREATE TABLE attempts (
  task_id         TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  worker          TEXT NOT NULL,
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER,
  outcome         TEXT NOT NULL,
  resolved_inputs TEXT,
  error           TEXT,
  PRIMARY KEY (task_id, attempt)
) WITHOUT ROWID;

-- Append-only: rows are never updated; seq orders every tree's events.
CREATE TABLE events (
  seq     INTEGER PRIMARY KEY, -- rowids only grow here: rows are never deleted
  tree_id TEXT NOT NULL,
  task_id TEXT,
  type    TEXT NOT NULL,
  data    TEXT NOT NULL,
  at      INTEGER NOT NULL
);
CREATE INDEX events_tree ON events (tree_id, seq);
CREATE INDEX events_task ON events (task_id, seq);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
