-- Machines (DESIGN §9): where commands run, by name, per owner scope. No secret is stored here:
-- a password is read at connect time from the environment variable named in password_env, and a
-- private key stays in its file (key_path). Labels are a JSON object of strings. Times are epoch ms.
CREATE TABLE machines (
  owner        TEXT NOT NULL,
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('ssh')),
  host         TEXT NOT NULL,
  port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  username     TEXT NOT NULL,
  key_path     TEXT,
  password_env TEXT,
  known_hosts  TEXT,
  labels       TEXT NOT NULL DEFAULT '{}',
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (owner, name)
);
CREATE INDEX machines_name ON machines (name);
