-- grove_fallback(): raised by a statement that found its case is not the common one
-- (finish_commit.sql), so that its transaction rolls back and the caller takes the general path.
-- SQLSTATE GR001 tells this apart from real errors.
CREATE FUNCTION grove_fallback(reason text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', reason USING ERRCODE = 'GR001';
END
$$;
