-- The machines a scope sees: those owned inside its subtree (segment-wise, never LIKE) and those
-- owned by one of its ancestors (:ancestors, a JSON array of scopes, "" included), whose machines
-- its tasks may use.
SELECT * FROM machines
WHERE (:scope = '' OR owner = :scope OR substr(owner, 1, length(:scope) + 1) = :scope || '/')
   OR owner IN (SELECT value FROM json_each(:ancestors))
ORDER BY name, owner
