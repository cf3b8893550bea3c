INSERT INTO tasks (id, tree_id, parent_id, name, executor, inputs, dependencies, priority, retry,
                   timeout_ms, lease_ms, placement, owner, status, created_at)
VALUES (:id, :tree_id, :parent_id, :name, :executor, :inputs, :dependencies, :priority, :retry,
        :timeout_ms, :lease_ms, :placement, :owner, :status, :now)
