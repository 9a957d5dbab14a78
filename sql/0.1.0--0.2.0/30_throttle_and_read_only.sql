-- 0.2.0: wrong code entries counted in shared memory (works on a standby and in
-- read-only transactions); calls that write refuse a read-only transaction.

-- benefit.code_attempt keeps one row per contact or client key that entered
-- a wrong code; once its window has ended the row throttles nothing.
CREATE FUNCTION benefit.purge_code_attempts()
RETURNS integer
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ended AS (
        SELECT a.key FROM benefit.code_attempt a
         WHERE a.window_start <= clock_timestamp()
                                 - COALESCE(current_setting('benefit.throttle_window', true), '15min')::interval
         LIMIT 10000
           FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM benefit.code_attempt a USING ended WHERE a.key = ended.key RETURNING 1
    )
    SELECT count(*)::integer FROM gone
$$;
COMMENT ON FUNCTION benefit.purge_code_attempts() IS
    'Deletes the wrong-code counts whose throttle window (benefit.throttle_window as the calling session sees it: run it with the applications'' setting) has ended, 10,000 per call (rows being counted are skipped); returns how many';
REVOKE ALL ON FUNCTION benefit.purge_code_attempts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.purge_code_attempts() TO benefit_admin, benefit_sales;

