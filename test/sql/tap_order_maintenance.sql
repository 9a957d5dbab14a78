-- tap_order_maintenance: the order tables stay lean.  Every update of an
-- order row (confirm, release, expire_holds, refund, a deadline moved) is a HOT
-- update: order_hold indexes no changing column, and the open holds are kept
-- by deadline in benefit.order_open by triggers; purge_orders deletes closed
-- orders older than an age (released and expired ones; confirmed and
-- refunded ones only when asked, once their performances began and their
-- last refund is as old), with their refunds, never an open hold nor a
-- recent order, in batches, and leaves counters, codes, code history and
-- tickets as they were.  The fixture (test/fixtures/offers.sql) is built by
-- the DBA (superuser); the buying runs as a login granted only
-- benefit_sales, the purge as one granted only benefit_admin; the DBA moves
-- dates into the past and reads the statistics and the tables.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(36);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

-- the updates and HOT updates of order_hold in this transaction
CREATE FUNCTION pg_temp.upd() RETURNS bigint LANGUAGE sql AS $$
    SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 'benefit.order_hold'::regclass $$;
CREATE FUNCTION pg_temp.hot() RETURNS bigint LANGUAGE sql AS $$
    SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relid = 'benefit.order_hold'::regclass $$;
CREATE FUNCTION pg_temp.open() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(order_ref, ',' ORDER BY order_ref), '') FROM benefit.order_open $$;
CREATE FUNCTION pg_temp.orders() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(order_ref || ':' || state, ',' ORDER BY order_ref) FROM benefit.order_hold $$;

SELECT is(ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = 'benefit.order_hold'::regclass AND i.indpred IS NULL ORDER BY 1)
          || ARRAY(SELECT 'predicate' FROM pg_index i WHERE i.indrelid = 'benefit.order_hold'::regclass AND i.indpred IS NOT NULL),
          ARRAY['created_at', 'order_ref'],
          'order_hold indexes only columns that never change (its key and created_at), and no index has a predicate');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'benefit.order_hold'::regclass), ARRAY['fillfactor=70'],
          'order_hold leaves room on its pages for HOT updates');

-- buying: holds, confirms, releases, an expiry
SET ROLE tap_sales;
SELECT is(string_agg((benefit.hold(r, ARRAY[l], NULL, ch, now() + interval '10 minutes', c, NULL, pos)).reason::text, ',' ORDER BY r),
          'ok,ok,ok,ok,ok,ok,ok,ok,ok', 'nine orders held')
  FROM (VALUES ('m-rel', pg_temp.line('tote', NULL, 1), 'box-office', NULL::text[], NULL),
               ('m-exp', pg_temp.line('tote', NULL, 1), 'box-office', NULL, NULL),
               ('m-code', pg_temp.line('cyrano', 'cyrano-1', 1), 'web', ARRAY[pg_temp.code(1)], 'shop'),
               ('m-tote', pg_temp.line('tote', NULL, 1), 'box-office', NULL, NULL),
               ('m-cyr', pg_temp.line('cyrano', 'cyrano-1', 2), 'box-office', NULL, NULL),
               ('m-open', pg_temp.line('tote', NULL, 1), 'box-office', NULL, NULL),
               ('m-new', pg_temp.line('tote', NULL, 1), 'box-office', NULL, NULL),
               ('m-ref', pg_temp.line('mouette', NULL, 2), 'box-office', NULL, NULL),
               ('m-ref-new', pg_temp.line('mouette', NULL, 2), 'box-office', NULL, NULL)) v(r, l, ch, c, pos);
RESET ROLE;
SELECT is(pg_temp.open(), 'm-code,m-cyr,m-exp,m-new,m-open,m-ref,m-ref-new,m-rel,m-tote', 'each hold is listed in order_open');
SELECT is((SELECT held_until FROM benefit.order_open WHERE order_ref = 'm-open'),
          (SELECT held_until FROM benefit.order_hold WHERE order_ref = 'm-open'), 'with its deadline');
UPDATE benefit.order_hold SET held_until = now() + interval '1 day' WHERE order_ref = 'm-open';
SELECT is((SELECT held_until FROM benefit.order_open WHERE order_ref = 'm-open'), now() + interval '1 day',
          'a deadline moved moves in order_open too');
SET ROLE tap_sales;
SELECT is(benefit.confirm('m-tote')::text || benefit.confirm('m-cyr')::text || benefit.release('m-rel')::text
          || benefit.release('m-code')::text || benefit.release('m-new')::text || benefit.confirm('m-ref')::text
          || benefit.confirm('m-ref-new')::text, 'okokokokokokok', 'four orders confirmed, three released');
SELECT is(benefit.refund('m-ref', 'r-1')::text || benefit.refund('m-ref-new', 'r-2', ARRAY[ROW(1, 1)::benefit.refund_line])::text,
          'okok', 'one order refunded whole, one in part');
RESET ROLE;
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref = 'm-exp';
SET ROLE tap_sales;
SELECT is(benefit.expire_holds(), 1, 'expire_holds finds the one hold past its deadline through order_open');
RESET ROLE;
SELECT is(pg_temp.open(), 'm-open', 'a closed order leaves order_open: the open hold is left');
SELECT is(pg_temp.orders(), 'm-code:released,m-cyr:confirmed,m-exp:expired,m-new:released,m-open:held,m-ref:refunded,m-ref-new:confirmed,m-rel:released,m-tote:confirmed',
          'the orders'' states');

-- HOT: every update so far kept the row on its page without touching an index
SELECT cmp_ok(pg_temp.upd(), '>=', 12::bigint, 'order_hold was updated (2 deadlines moved, 4 confirms, 3 releases, 2 refunds, 1 expiry)');
SELECT is(pg_temp.hot(), pg_temp.upd(), 'every one of those updates was HOT (n_tup_hot_upd = n_tup_upd)');

-- the DBA moves orders 100 days back: created_at is indexed, so these updates are not HOT (the
-- statistics do tell the two apart); the whole refund (r-1) is moved back too, the refund in
-- part (r-2) stays recent
SELECT pg_temp.upd() - pg_temp.hot() AS before_backdating \gset
UPDATE benefit.order_hold SET created_at = created_at - interval '100 days', closed_at = closed_at - interval '100 days'
 WHERE order_ref <> 'm-new';
SELECT is(pg_temp.upd() - pg_temp.hot() - :before_backdating, 8::bigint, 'changing created_at of 8 orders: 8 updates not HOT');
UPDATE benefit.order_refund SET at = at - interval '100 days' WHERE refund_ref = 'r-1';

-- purge_orders: the admin's
SET ROLE tap_sales;
SELECT throws_ok($$SELECT benefit.purge_orders()$$, '42501', NULL, 'the sales role cannot purge orders');
SET ROLE tap_admin;
SELECT throws_ok($$SELECT benefit.purge_orders(NULL)$$, '22004', 'older_than, batch and include_confirmed must not be NULL',
                 'older_than must not be NULL');
SELECT throws_ok($$SELECT benefit.purge_orders('-1 day')$$, '22023', 'older_than must be between 0 and 100 years',
                 'a negative age');
SELECT throws_ok($$SELECT benefit.purge_orders('90 days', 0)$$, '22023', 'batch must be between 1 and 100000',
                 'an empty batch');
RESET ROLE;
CREATE TEMP TABLE kept AS
SELECT (SELECT array_agg(c ORDER BY kind, owner_id, key) FROM benefit.counter c) AS counters,
       (SELECT count(*) FROM benefit.code_history) AS history,
       (SELECT array_agg(c ORDER BY code) FROM benefit.single_use_code c) AS codes;
SELECT cmp_ok((SELECT count(*) FROM benefit.order_hold_counter WHERE order_ref = 'm-code'), '>', 0::bigint,
              'the old released order with a code has its reserved units recorded');
SET ROLE tap_admin;
SELECT is(benefit.purge_orders('90 days', 1), 1::bigint, 'a batch of one purges one order');
SELECT is(benefit.purge_orders(), 2::bigint, 'the default: the other old released or expired orders');
SELECT is(benefit.purge_orders(), 0::bigint, 'nothing more to purge');
RESET ROLE;
SELECT is(pg_temp.orders(), 'm-cyr:confirmed,m-new:released,m-open:held,m-ref:refunded,m-ref-new:confirmed,m-tote:confirmed',
          'kept: the old confirmed and refunded orders, the recent released one, the old open hold');
SELECT is((SELECT count(*) FROM benefit.order_line WHERE order_ref IN ('m-rel', 'm-exp', 'm-code'))
          + (SELECT count(*) FROM benefit.order_code WHERE order_ref IN ('m-rel', 'm-exp', 'm-code'))
          + (SELECT count(*) FROM benefit.order_hold_counter WHERE order_ref IN ('m-rel', 'm-exp', 'm-code')), 0::bigint,
          'their lines, codes and reserved units went with them');
SELECT is((SELECT count(*) FROM benefit.order_line WHERE order_ref IN ('m-cyr', 'm-new', 'm-open', 'm-tote', 'm-ref', 'm-ref-new')), 6::bigint,
          'the kept orders keep their lines');
SELECT is((SELECT counters FROM kept), (SELECT array_agg(c ORDER BY kind, owner_id, key) FROM benefit.counter c),
          'the counters are untouched');
SELECT is((SELECT history FROM kept), (SELECT count(*) FROM benefit.code_history), 'the code history stays');
SELECT is((SELECT codes FROM kept), (SELECT array_agg(c ORDER BY code) FROM benefit.single_use_code c), 'the codes stay as they were');

SET ROLE tap_admin;
SELECT is(benefit.purge_orders('90 days', 10000, true), 2::bigint,
          'with include_confirmed: the old confirmed order and the old refunded one, both without a performance');
RESET ROLE;
SELECT is(pg_temp.orders(), 'm-cyr:confirmed,m-new:released,m-open:held,m-ref-new:confirmed',
          'kept: the confirmed order for a performance still to come, the order refunded in part recently');
SELECT is((SELECT string_agg(refund_ref, ',' ORDER BY refund_ref) FROM benefit.order_refund), 'r-2',
          'the refunded order''s refund went with it, the other stays');
SET ROLE tap_admin;
SELECT is(benefit.purge_orders('0 seconds', 10000, true), 2::bigint, 'with no age: the recent released order and the recent refund too');
SELECT is(benefit.purge_orders('0 seconds', 10000, true), 0::bigint, 'the open hold never');
RESET ROLE;
SELECT is(pg_temp.orders() || ' / ' || pg_temp.open(), 'm-cyr:confirmed,m-open:held / m-open', 'left: the open hold, listed in order_open, and m-cyr');

-- a purged order is unknown; its reference may be held again
SET ROLE tap_sales;
SELECT is(benefit.confirm('m-tote')::text, 'unknown_order', 'a purged order is unknown');
SELECT is((benefit.hold('m-rel', ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', now() + interval '10 minutes')).reason::text,
          'ok', 'the reference of a purged order may be held again');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
