-- bench/p2_reset.sql: before every P2 run, nothing held or used and no order recorded, in the
-- extension's ledger (orders, open holds, lines, codes, counter records, refunds) as in the
-- hand-written tables and the reference counter; dead rows vacuumed; a checkpoint.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
UPDATE benefit.counter SET held = 0, used = 0 WHERE held <> 0 OR used <> 0;
TRUNCATE benefit.order_hold, benefit.order_open, benefit.order_hold_counter, benefit.order_line, benefit.order_code,
         benefit.order_refund, benefit.order_refund_line, benefit.order_refund_counter, bench.p2_outcome,
         bench.p2_hold;
UPDATE bench.p2_counter SET held = 0, used = 0 WHERE held <> 0 OR used <> 0;
UPDATE bench.counter1 SET used = 0;
VACUUM benefit.counter, bench.p2_counter, bench.counter1;
CHECKPOINT;
