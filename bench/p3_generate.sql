-- bench/p3_generate.sql: P3, times benefit.generate_codes of :codes codes into the emptied
-- benefit.single_use_code (run by bench/run with psql -v codes=N).  Prints the seconds taken,
-- commit included, and the bytes of WAL written.  Before timing, it writes its backend pid to the
-- file named by the environment variable BENCH_PIDFILE, so that bench/run can sample the
-- backend's memory from /proc.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT b.benefit_id, c.contact_id
  FROM benefit.benefit b, benefit.contact c
 WHERE b.code = 'bench' AND c.external_ref = 'bench' \gset
TRUNCATE benefit.single_use_code CASCADE;   -- and the (empty) tables that reference it
CHECKPOINT;
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_BACKEND_PID :pid
\! echo "$BENCH_BACKEND_PID" > "$BENCH_PIDFILE"
-- give the sampler time for a first sample of the idle backend
SELECT pg_sleep(0.3) \g /dev/null
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
SELECT benefit.generate_codes(:benefit_id, :contact_id, :codes, 'bench', 'en') \g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3) AS seconds,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal_bytes \gset
\echo :seconds :wal_bytes
