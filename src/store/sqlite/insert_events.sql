-- Appends events; seq (the rowid) only grows, so a transaction's events keep their order. The
-- store repeats the VALUES row once per event: one multi-row insert costs less than a statement
-- per event (and less than json_each over a JSON batch, measured). A multi-row insert takes
-- consecutive rowids (INTEGER PRIMARY KEY without AUTOINCREMENT: max(seq) + 1 per row), so the
-- seqs are lastInsertRowid - n + 1 … lastInsertRowid.
INSERT INTO events (tree_id, task_id, type, data, at) VALUES (?, ?, ?, ?, ?)
