-- Schedules (DESIGN §7) for PostgreSQL: the same tables and columns as the SQLite store's
-- 003_schedules.sql (numbered alike). A schedule's definitions are immutable versions
-- (schedule_versions); the live version of each (owner, name) and its firing state are one row of
-- `schedules`; deleting is a tombstone (deleted_at). Times are bigint epoch milliseconds.
CREATE TABLE schedule_versions (
  id         bigserial PRIMARY KEY,
  owner      text COLLATE "C" NOT NULL,
  name       text COLLATE "C" NOT NULL,
  version    integer NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('oneshot', 'interval', 'cron')),
  at         bigint,
  every_ms   bigint,
  cron       text,
  tz         text,
  max_runs   integer,
  start_at   bigint,
  end_at     bigint,
  target     json NOT NULL,
  created_at bigint NOT NULL,
  UNIQUE (owner, name, version)
);
CREATE FUNCTION grove_schedule_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'schedule versions are immutable';
END
$$;
CREATE TRIGGER schedule_versions_immutable
  BEFORE UPDATE ON schedule_versions
  FOR EACH ROW EXECUTE FUNCTION grove_schedule_versions_immutable();

CREATE TABLE schedules (
  owner         text COLLATE "C" NOT NULL,
  name          text COLLATE "C" NOT NULL,
  version_id    bigint NOT NULL REFERENCES schedule_versions (id),
  version       integer NOT NULL,
  enabled       boolean NOT NULL DEFAULT true,
  deleted_at    bigint,
  run_count     integer NOT NULL DEFAULT 0,
  error_count   integer NOT NULL DEFAULT 0,
  last_fired_at bigint,
  -- null: will not fire again (oneshot fired, max_runs reached, past end_at, deleted)
  next_due_at   bigint,
  last_status   text,
  last_error    json,
  last_run_id   text COLLATE "C",
  updated_at    bigint NOT NULL,
  PRIMARY KEY (owner, name)
);
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE enabled AND deleted_at IS NULL AND next_due_at IS NOT NULL;
CREATE INDEX schedules_name ON schedules (name);

-- One row per firing. UNIQUE (version_id, due_at): a due slot is fired at most once, whatever
-- the claim logic does.
CREATE TABLE schedule_runs (
  id               text COLLATE "C" PRIMARY KEY,
  owner            text COLLATE "C" NOT NULL,
  name             text COLLATE "C" NOT NULL,
  version          integer NOT NULL,
  version_id       bigint NOT NULL REFERENCES schedule_versions (id),
  due_at           bigint NOT NULL,
  status           text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
  runner           text NOT NULL,
  lease_expires_at bigint,
  started_at       bigint NOT NULL,
  finished_at      bigint,
  error            json,
  tree_id          text COLLATE "C",
  UNIQUE (version_id, due_at)
);
CREATE INDEX schedule_runs_schedule ON schedule_runs (owner, name, started_at);
CREATE INDEX schedule_runs_lease ON schedule_runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX schedule_runs_finished ON schedule_runs (finished_at) WHERE status <> 'running';

-- Everything a run produced, errors included, in order. json (not jsonb): output may hold \u0000.
CREATE TABLE schedule_run_items (
  run_id text COLLATE "C" NOT NULL REFERENCES schedule_runs (id) ON DELETE CASCADE,
  seq    integer NOT NULL,
  at     bigint NOT NULL,
  item   json NOT NULL,
  PRIMARY KEY (run_id, seq)
);
