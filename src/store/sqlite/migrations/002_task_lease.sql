-- Per-task lease length (DESIGN §4 leases; null = the worker's lease).
ALTER TABLE tasks ADD COLUMN lease_ms INTEGER;
