-- Adds a machine; a (owner, name) that exists is left alone (no row returned).
INSERT INTO machines (owner, name, kind, host, port, username, key_path, password_env, known_hosts, labels, created_at)
VALUES (:owner::text, :name::text, :kind::text, :host::text, :port::integer, :username::text, :key_path::text,
        :password_env::text, :known_hosts::text, :labels::jsonb, :created_at::bigint)
ON CONFLICT (owner, name) DO NOTHING
RETURNING name
