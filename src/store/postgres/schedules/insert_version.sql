-- A new immutable version of (owner, name): the next number after every earlier one, deleted
-- ones included. The caller holds the name's advisory lock.
INSERT INTO schedule_versions (owner, name, version, kind, at, every_ms, cron, tz, max_runs, start_at, end_at, target, created_at)
VALUES (
  :owner::text, :name::text,
  (SELECT COALESCE(max(version), 0) + 1 FROM schedule_versions WHERE owner = :owner::text AND name = :name::text),
  :kind::text, :at::bigint, :every_ms::bigint, :cron::text, :tz::text, :max_runs::integer, :start_at::bigint, :end_at::bigint,
  :target::json, :now::bigint
)
RETURNING id, version
