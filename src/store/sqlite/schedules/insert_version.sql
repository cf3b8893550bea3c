-- A new immutable version of (owner, name): the next version number after every earlier one,
-- deleted ones included.
INSERT INTO schedule_versions (owner, name, version, kind, at, every_ms, cron, tz, max_runs, start_at, end_at, target, created_at)
VALUES (
  :owner, :name,
  (SELECT COALESCE(max(version), 0) + 1 FROM schedule_versions WHERE owner = :owner AND name = :name),
  :kind, :at, :every_ms, :cron, :tz, :max_runs, :start_at, :end_at, :target, :now
)
RETURNING id, version
