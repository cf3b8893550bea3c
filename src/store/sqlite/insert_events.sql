-- Appends one event; seq (the rowid) only grows, so a transaction's events keep their order.
-- One prepared statement per row: in-process SQLite has no round trip to save, and binding five
-- values beats encoding a batch as JSON and extracting it again with json_each (measured).
INSERT INTO events (tree_id, task_id, type, data, at) VALUES (:tree_id, :task_id, :type, :data, :at)
