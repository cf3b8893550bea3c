-- Events are found through their tree only. An index on (task_id, seq) cost a b-tree write at a
-- random position for every event on the hot path; reading one task's events now scans its
-- tree's events (events_tree), which is cheap for a task's log and rare next to the writes.
DROP INDEX IF EXISTS events_task;
