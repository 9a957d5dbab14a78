-- bench/p3_prepare.sql: P3 set-up, run once by bench/run before the timed steps (psql -v codes=N).
-- Creates the comparison table and the file of ready-made codes that the COPY step loads:
--   bench.copy_target  same columns, constraints, indexes and fillfactor as benefit.single_use_code;
--   bench_codes.tsv    (in the data directory) :codes codes made by one untimed generate_codes,
--                      as code, batch_id, benefit_id, in random order: what the COPY baseline loads.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE bench.copy_target (LIKE benefit.single_use_code INCLUDING ALL) WITH (fillfactor = 80);

SELECT b.benefit_id, c.contact_id
  FROM benefit.benefit b, benefit.contact c
 WHERE b.code = 'bench' AND c.external_ref = 'bench' \gset
SELECT benefit.generate_codes(:benefit_id, :contact_id, :codes, 'bench', 'en') \g /dev/null
-- server-side COPY (superuser) into the server's data directory
SELECT current_setting('data_directory') || '/bench_codes.tsv' AS codes_file \gset
-- in random order, as a generator outside the database makes them (generate_codes writes its rows
-- sorted by code within each round of 65,536: a file in that order would hand COPY the same help)
COPY (SELECT code, batch_id, benefit_id FROM benefit.single_use_code ORDER BY pg_catalog.random()) TO :'codes_file';
TRUNCATE benefit.single_use_code CASCADE;   -- and the (empty) tables that reference it
