-- The next ready tasks in priority order (0 first), then age. A task with placement labels is
-- taken only by a worker having every one of them. claim.sql then takes them by primary key, in
-- the same immediate transaction.
SELECT t.id FROM tasks t
WHERE t.status = 'ready'
  AND t.run_after <= :now
  AND (:tree_id IS NULL OR t.tree_id = :tree_id)
  AND (t.placement = '{}' OR NOT EXISTS (
        SELECT 1 FROM json_each(t.placement) p
        WHERE p.value IS NOT (SELECT l.value FROM json_each(:labels) l WHERE l.key = p.key)))
ORDER BY t.priority, t.created_at, t.id
LIMIT :limit
