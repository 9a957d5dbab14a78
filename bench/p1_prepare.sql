-- bench/p1_prepare.sql: P1 set-up, run once by bench/run (psql -v codes=N).
-- benefit.single_use_code must hold :codes unused codes (left by P3's last generate_codes, or made
-- here); bench.code_copy is a copy of it (same columns, constraints, indexes, fillfactor 80, same
-- rows in the same order) for the bare-UPDATE baseline; bench.pool numbers the codes 1..:codes so
-- that both pgbench scripts pick a random code with the same primary-key lookup.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

DROP TABLE IF EXISTS bench.copy_target;   -- P3's table: free its buffers
\ir contacts.sql

SELECT count(*) <> :codes AS need_codes FROM benefit.single_use_code \gset
\if :need_codes
    SELECT b.benefit_id, c.contact_id
      FROM benefit.benefit b, benefit.contact c
     WHERE b.code = 'bench' AND c.external_ref = 'bench' \gset
    TRUNCATE benefit.single_use_code CASCADE;   -- and the (empty) tables that reference it
    SELECT benefit.generate_codes(:benefit_id, :contact_id, :codes, 'bench', 'en') \g /dev/null
\endif

CREATE TABLE bench.code_copy (LIKE benefit.single_use_code INCLUDING ALL) WITH (fillfactor = 80);
INSERT INTO bench.code_copy SELECT * FROM benefit.single_use_code;
-- the history and the ledger rows a redeem_code writes, for the floor p1_ledger.pgbench: copies of
-- the tables with their indexes and storage (the order's deadline index of 0.2.0 is gone in 0.3.0)
CREATE TABLE bench.history_copy (LIKE benefit.code_history INCLUDING ALL);
CREATE TABLE bench.order_copy (LIKE benefit.order_hold INCLUDING ALL);
CREATE TABLE bench.order_code_copy (LIKE benefit.order_code INCLUDING ALL);
CREATE TABLE bench.counter_copy (LIKE benefit.counter INCLUDING ALL);
CREATE TABLE bench.order_counter_copy (LIKE benefit.order_hold_counter INCLUDING ALL);
INSERT INTO bench.counter_copy SELECT * FROM benefit.counter;
-- the ledger of a box office that has sold before: 200,000 past orders in both ledgers, so that
-- the plans of the runs (foreign-key checks included) are made for a table that has rows
INSERT INTO benefit.order_hold (order_ref, kind, state, held_until, base_cents, lines_cents, promo_discount_cents,
                                total_cents, created_at, closed_at, closed_by)
SELECT 'past-' || i, 'codes', 'confirmed', now() - interval '1 day', 0, 0, 0, 0, now() - interval '1 day',
       now() - interval '1 day', 'bench'
  FROM generate_series(1, 200000) i;
INSERT INTO bench.order_copy SELECT * FROM benefit.order_hold;
-- the foreign keys of the ledger, which the writes check (LIKE copies no foreign key)
ALTER TABLE bench.order_code_copy ADD FOREIGN KEY (order_ref) REFERENCES bench.order_copy (order_ref);
ALTER TABLE bench.order_counter_copy ADD FOREIGN KEY (order_ref) REFERENCES bench.order_copy (order_ref);
CREATE TABLE bench.pool (i integer PRIMARY KEY, code benefit.code NOT NULL);
INSERT INTO bench.pool SELECT row_number() OVER (), code FROM benefit.single_use_code;
TRUNCATE benefit.code_history CASCADE;
VACUUM ANALYZE benefit.single_use_code, bench.code_copy, bench.pool, benefit.code_history, bench.history_copy, benefit.contact,
    bench.order_copy, bench.order_code_copy, bench.counter_copy, bench.order_counter_copy, benefit.order_hold,
    benefit.order_code, benefit.order_hold_counter;

-- load every page of the three tables, of the contacts redeem_code checks (its buyer must exist),
-- and of their indexes into shared buffers
SELECT sum(pg_prewarm(c.oid))
  FROM pg_class c
 WHERE c.oid = ANY (ARRAY['benefit.single_use_code', 'bench.code_copy', 'bench.pool', 'benefit.contact']::regclass[])
    OR c.oid IN (SELECT indexrelid FROM pg_index
                  WHERE indrelid = ANY (ARRAY['benefit.single_use_code', 'bench.code_copy', 'bench.pool',
                                              'benefit.contact']::regclass[]))
\g /dev/null
CHECKPOINT;
