INSERT INTO trees (id, name, owner, inputs, root_id, status, created_at)
VALUES (:id::text, :name::text, :owner::text, :inputs::json, :root_id::text, 'running', :now::bigint)
