-- bench/p3_copy.sql: P3 baseline (a), times a server-side COPY of the :codes ready-made codes of
-- bench_codes.tsv in the data directory (written by p3_prepare.sql) into the emptied
-- bench.copy_target, a table with the columns, constraints, indexes and fillfactor of
-- benefit.single_use_code.  Prints the seconds, commit included, and the bytes of WAL written.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
TRUNCATE bench.copy_target;
CHECKPOINT;
SELECT current_setting('data_directory') || '/bench_codes.tsv' AS codes_file \gset
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
COPY bench.copy_target (code, batch_id, benefit_id) FROM :'codes_file';
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3) AS seconds,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal_bytes \gset
\echo :seconds :wal_bytes
