-- bench/p3_insert_select.sql: P3 baseline (b), times INSERT ... SELECT of :codes random text codes
-- (13 upper-case hex characters of an md5, the usual way of making codes in SQL) into the emptied
-- bench.text_code, the same table keyed by text with a unique index.  Prints the seconds, commit
-- included, and the bytes of WAL written.
-- (random() has 52 bits: a duplicate, and so a unique violation, has a chance of about 1e-4.)
\set ON_ERROR_STOP on
SET client_min_messages = warning;
TRUNCATE bench.text_code;
CHECKPOINT;
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
INSERT INTO bench.text_code (code, batch_id, benefit_id)
SELECT upper(substr(md5(random()::text), 1, 13)), 1, 1
  FROM generate_series(1, :codes);
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3) AS seconds,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal_bytes \gset
\echo :seconds :wal_bytes
