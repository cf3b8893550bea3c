-- The machines a scope sees: those owned inside its subtree (segment-wise, never LIKE) and those
-- owned by one of its ancestors (:ancestors, "" included), whose machines its tasks may use.
SELECT * FROM machines
WHERE (:scope::text = '' OR owner = :scope::text OR starts_with(owner, :scope::text || '/'))
   OR owner = ANY(:ancestors::text[])
ORDER BY name, owner
