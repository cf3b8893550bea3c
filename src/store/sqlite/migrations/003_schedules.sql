-- Schedules (DESIGN §7). A schedule's definitions are immutable versions (schedule_versions); the
-- live version of each (owner, name) and its firing state are one row of `schedules`. Deleting is
-- a tombstone (deleted_at): versions and runs stay. Times are epoch milliseconds.
CREATE TABLE schedule_versions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  owner      TEXT NOT NULL,
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('oneshot', 'interval', 'cron')),
  at         INTEGER,
  every_ms   INTEGER,
  cron       TEXT,
  tz         TEXT,
  max_runs   INTEGER,
  start_at   INTEGER,
  end_at     INTEGER,
  target     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (owner, name, version)
);
CREATE TRIGGER schedule_versions_immutable BEFORE UPDATE ON schedule_versions
  BEGIN SELECT RAISE(ABORT, 'schedule versions are immutable'); END;

CREATE TABLE schedules (
  owner         TEXT NOT NULL,
  name          TEXT NOT NULL,
  version_id    INTEGER NOT NULL REFERENCES schedule_versions (id),
  version       INTEGER NOT NULL,
  enabled       INTEGER NOT NULL DEFAULT 1,
  deleted_at    INTEGER,
  run_count     INTEGER NOT NULL DEFAULT 0,
  error_count   INTEGER NOT NULL DEFAULT 0,
  last_fired_at INTEGER,
  -- null: will not fire again (oneshot fired, max_runs reached, past end_at, deleted)
  next_due_at   INTEGER,
  last_status   TEXT,
  last_error    TEXT,
  last_run_id   TEXT,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (owner, name)
);
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE enabled = 1 AND deleted_at IS NULL AND next_due_at IS NOT NULL;
CREATE INDEX schedules_name ON schedules (name);

-- One row per firing. UNIQUE (version_id, due_at): a due slot is fired at most once, whatever
-- the claim logic does.
CREATE TABLE schedule_runs (
  id               TEXT PRIMARY KEY,
  owner            TEXT NOT NULL,
  name             TEXT NOT NULL,
  version          INTEGER NOT NULL,
  version_id       INTEGER NOT NULL REFERENCES schedule_versions (id),
  due_at           INTEGER NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
  runner           TEXT NOT NULL,
  lease_expires_at INTEGER,
  started_at       INTEGER NOT NULL,
  finished_at      INTEGER,
  error            TEXT,
  tree_id          TEXT,
  UNIQUE (version_id, due_at)
);
CREATE INDEX schedule_runs_schedule ON schedule_runs (owner, name, started_at);
CREATE INDEX schedule_runs_lease ON schedule_runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX schedule_runs_finished ON schedule_runs (finished_at) WHERE status <> 'running';

-- Everything a run produced, errors included, in order.
CREATE TABLE schedule_run_items (
  run_id TEXT NOT NULL REFERENCES schedule_runs (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL,
  at     INTEGER NOT NULL,
  item   TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
