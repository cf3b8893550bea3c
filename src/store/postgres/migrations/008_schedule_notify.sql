-- Schedulers sleep until they are told: statements that change when something is due or that
-- start runs send NOTIFY grove_schedules, delivered at commit, whichever process or connection
-- wrote them (the CLI, `grove serve`, SQL by hand):
-- - a new schedule or version (INSERT, and INSERT … ON CONFLICT DO UPDATE);
-- - a change of next_due_at, enabled, deleted_at or version_id (a firing elsewhere, enable,
--   disable, delete, overwrite): row-level, so a statement that changed no row sends nothing;
-- - new runs (their leases are wake-up times: a runner may die).
-- Recording an outcome (last_status, error_count) changes no due time and sends nothing: a
-- NOTIFY makes its transaction's commit take PostgreSQL's one notify-queue lock, so it is kept
-- to what a scheduler must hear. Several NOTIFYs of one transaction are delivered as one.
CREATE FUNCTION grove_schedules_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('grove_schedules', '');
  RETURN NULL;
END
$$;

-- Statement-level with a transition table: one call per statement, nothing when no row was inserted.
CREATE FUNCTION grove_schedules_notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted) THEN
    PERFORM pg_notify('grove_schedules', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER schedules_inserted AFTER INSERT ON schedules
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION grove_schedules_notify_inserted();
CREATE TRIGGER schedules_due_changed AFTER UPDATE OF next_due_at, enabled, deleted_at, version_id ON schedules
  FOR EACH ROW EXECUTE FUNCTION grove_schedules_notify();
CREATE TRIGGER schedule_runs_inserted AFTER INSERT ON schedule_runs
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION grove_schedules_notify_inserted();
