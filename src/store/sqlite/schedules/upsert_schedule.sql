-- Makes a version the live one of its name; its firing state starts over.
INSERT INTO schedules (owner, name, version_id, version, enabled, deleted_at, run_count, error_count,
                       last_fired_at, next_due_at, last_status, last_error, last_run_id, updated_at)
VALUES (:owner, :name, :version_id, :version, :enabled, NULL, 0, 0, NULL, :next_due_at, NULL, NULL, NULL, :now)
ON CONFLICT (owner, name) DO UPDATE SET
  version_id = excluded.version_id,
  version = excluded.version,
  enabled = excluded.enabled,
  deleted_at = NULL,
  run_count = 0,
  error_count = 0,
  last_fired_at = NULL,
  next_due_at = excluded.next_due_at,
  last_status = NULL,
  last_error = NULL,
  last_run_id = NULL,
  updated_at = excluded.updated_at
