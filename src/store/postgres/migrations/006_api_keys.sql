-- API keys of `grove serve` (DESIGN §8). Only the SHA-256 of a key is kept: the key itself is
-- printed once by `grove keys create`. A key's scope is the owner scope every request made with
-- it acts as. Revoking sets revoked_at (the row stays, so `keys list` shows it).
CREATE TABLE api_keys (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  scope      text NOT NULL,
  hash       text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  revoked_at bigint,
  last_used_at bigint
);

-- Per-schedule secrets of inbound webhooks (POST /hooks/schedules/:name). HMAC needs the secret
-- itself, so it is stored as is (like any webhook provider does); it is never returned by reads
-- other than the call that creates it.
CREATE TABLE schedule_hooks (
  owner      text NOT NULL,
  name       text NOT NULL,
  secret     text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (owner, name)
);
CREATE INDEX schedule_hooks_name ON schedule_hooks (name);
