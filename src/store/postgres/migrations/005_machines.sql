-- Machines (DESIGN §9): where commands run, by name, per owner scope. No secret is stored here:
-- a password is read at connect time from the environment variable named in password_env, and a
-- private key stays in its file (key_path). Times are epoch ms.
CREATE TABLE machines (
  owner        text NOT NULL,
  name         text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('ssh')),
  host         text NOT NULL,
  port         integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  username     text NOT NULL,
  key_path     text,
  password_env text,
  known_hosts  text,
  labels       jsonb NOT NULL DEFAULT '{}',
  created_at   bigint NOT NULL,
  PRIMARY KEY (owner, name)
);
CREATE INDEX machines_name ON machines (name);
