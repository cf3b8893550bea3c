-- Schedulers sleep until they are told: every statement that changes `schedules` (add, overwrite,
-- enable, disable, delete, a firing, an outcome) or starts runs (`schedule_runs` inserts, whose
-- leases a scheduler must watch) sends NOTIFY grove_schedules, delivered at commit, whichever
-- process or connection wrote it (the CLI, `grove serve`, SQL by hand). Statement-level triggers
-- with transition tables: one check per statement, and nothing is sent when no row changed (a
-- claim that found nothing due must not wake every scheduler, which would then claim again).
CREATE FUNCTION grove_schedules_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed) THEN
    PERFORM pg_notify('grove_schedules', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER schedules_inserted AFTER INSERT ON schedules
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grove_schedules_notify();
CREATE TRIGGER schedules_updated AFTER UPDATE ON schedules
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grove_schedules_notify();
CREATE TRIGGER schedule_runs_inserted AFTER INSERT ON schedule_runs
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION grove_schedules_notify();
