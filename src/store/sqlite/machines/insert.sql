-- Adds a machine; a (owner, name) that exists is left alone (the caller sees 0 changes).
INSERT INTO machines (owner, name, kind, host, port, username, key_path, password_env, known_hosts, labels, created_at)
VALUES (:owner, :name, :kind, :host, :port, :username, :key_path, :password_env, :known_hosts, :labels, :created_at)
ON CONFLICT (owner, name) DO NOTHING
