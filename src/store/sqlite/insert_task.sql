INSERT INTO tasks (id, tree_id, parent_id, name, executor, inputs, dependencies, priority, retry,
                   timeout_ms, lease_ms, placement, owner, status, deps_waiting, created_at)
VALUES (:id, :tree_id, :parent_id, :name, :executor, :inputs, :dependencies, :priority, :retry,
        :timeout_ms, :lease_ms, :placement, :owner, :status, :deps_waiting, :now)
