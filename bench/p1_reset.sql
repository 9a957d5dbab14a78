-- bench/p1_reset.sql: run by bench/run before every P1 pgbench run, so that each run starts from
-- the same state: every code of both tables unused again, both code histories empty, dead row
-- versions vacuumed away, and a checkpoint (each run then pays the same full-page writes).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
UPDATE benefit.single_use_code
   SET state = 'issued', used_at = NULL, used_by_contact = NULL, used_order = NULL
 WHERE state = 'used';
UPDATE bench.code_copy
   SET state = 'issued', used_at = NULL, used_by_contact = NULL, used_order = NULL
 WHERE state = 'used';
TRUNCATE benefit.code_history CASCADE;
TRUNCATE bench.history_copy;
-- the ledger: the orders of the last run (not the 200,000 past ones), and the floor's copies
DELETE FROM benefit.order_hold_counter WHERE order_ref LIKE 'bench-%';
DELETE FROM benefit.order_code WHERE order_ref LIKE 'bench-%';
DELETE FROM benefit.order_hold WHERE order_ref LIKE 'bench-%';
UPDATE benefit.counter SET held = 0, used = 0 WHERE held <> 0 OR used <> 0;
DELETE FROM bench.order_counter_copy;
DELETE FROM bench.order_code_copy;
DELETE FROM bench.order_copy WHERE order_ref LIKE 'bench-%';
UPDATE bench.counter_copy SET held = 0, used = 0 WHERE held <> 0 OR used <> 0;
VACUUM ANALYZE benefit.single_use_code, bench.code_copy, benefit.code_history, bench.history_copy, benefit.counter,
       bench.counter_copy, benefit.order_hold, benefit.order_code, benefit.order_hold_counter, bench.order_copy,
       bench.order_code_copy, bench.order_counter_copy;
CHECKPOINT;
