INSERT INTO trees (id, name, owner, inputs, root_id, status, created_at)
VALUES (:id, :name, :owner, :inputs, :root_id, 'running', :now)
