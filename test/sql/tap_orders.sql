-- tap_orders: the two-phase purchase.  benefit.hold takes the units of an
-- order's lines (and its single-use codes and promo code) until a deadline;
-- confirm makes them used, release gives them back, expire_holds gives back
-- the holds past their deadline; each answers a reason, never an error, for
-- an order in the wrong state; the quotas (total, per performance, per
-- contact) and the promo code's limits count held and used units alike; the
-- usage views (benefit_usage, promo_usage) show it.  The fixture
-- (test/fixtures/offers.sql) is built by the DBA (superuser); the calls run
-- as a login granted only benefit_sales, the usage views as one granted only
-- benefit_report, the operator's invalidation and the look into codes and
-- history as one granted only benefit_admin; deadlines moved into the past
-- are the DBA's.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(57);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

SET ROLE tap_sales;
-- holding, confirming, releasing
SELECT is((benefit.hold('o1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 2)], NULL, 'box-office', now() + interval '10 minutes')).reason::text, 'ok',
          'a hold of two public tickets');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'pub'$$, $$VALUES (2, 0, 3)$$,
                  'benefit_usage: 2 held, 3 left');
SET ROLE tap_sales;
SELECT is((benefit.hold('o1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'box-office', now() + interval '10 minutes')).reason::text,
          'order_already_held', 'an order reference is held once');
SELECT is(benefit.confirm('o1')::text, 'ok', 'confirm');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used, "left", units_sold, discount_cents FROM benefit.benefit_usage WHERE code = 'pub'$$,
                  $$VALUES (0, 2, 3, 2::bigint, 400::bigint)$$, 'benefit_usage: 2 used, 2 units sold, 4.00 of discount given');
SET ROLE tap_sales;
SELECT is(benefit.confirm('o1')::text, 'ok', 'confirming twice is harmless');
SELECT is(benefit.release('o1')::text, 'already_confirmed', 'a confirmed order cannot be released');
SELECT is(benefit.confirm('nobody')::text, 'unknown_order', 'confirming an unknown order');
SELECT is(pg_temp.used(benefit.hold('o2', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'box-office', now() + interval '10 minutes')), 'pub',
          'a second hold on the same performance takes its last unit');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'box-office'), 'pub'), 'performance_quota_exhausted',
          'the performance has 2 used and 1 held of its 3: refused with its reason');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], NULL, 'box-office')), 'pub',
          'another performance still has room');
SELECT is(benefit.release('o2')::text, 'ok', 'release');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'pub'$$, $$VALUES (0, 2, 3)$$,
                  'released units come back');
SET ROLE tap_sales;
SELECT is(benefit.release('o2')::text, 'ok', 'releasing twice is harmless');
SELECT is(benefit.confirm('o2')::text, 'already_released', 'a released order cannot be confirmed');
SELECT is((benefit.hold('o3', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1), pg_temp.line('cyrano', 'cyrano-2', 2)], NULL, 'box-office',
                        now() + interval '10 minutes')).reason::text, 'ok', 'a hold of the 3 units left');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], NULL, 'box-office'), 'pub'), 'quota_exhausted',
          'the total quota is used up: refused with its reason');
-- the deadline passes (the test moves it into the past)
RESET ROLE;
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref = 'o3';
SET ROLE tap_sales;
SELECT is(benefit.expire_holds(), 1, 'expire_holds gives back one hold past its deadline');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'pub'$$, $$VALUES (0, 2, 3)$$,
                  'the expired hold''s units are back');
SET ROLE tap_sales;
SELECT is(benefit.confirm('o3')::text, 'hold_expired', 'an expired hold is never confirmed');
SELECT is(benefit.expire_holds(), 0, 'nothing left to expire');

-- a single-use code and a promo code in a hold
SELECT is((benefit.hold('o4', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], pg_temp.id('Carol'), 'web', now() + interval '10 minutes',
                        ARRAY[pg_temp.code(2)], 'PROMO10', 'shop')).reason::text, 'ok',
          'a hold with a single-use code and a promo code');
SET ROLE tap_admin;
SELECT results_eq($$SELECT state::text, hold_order FROM benefit.single_use_code WHERE code::text = pg_temp.code(2)$$,
                  $$VALUES ('held', 'o4')$$, 'the code is held by the order');
SET ROLE tap_sales;
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', 'shop', NULL,
                                           ARRAY[pg_temp.code(2)]), 'su'),
          'held_by_other_order', 'another buyer cannot use a held code');
SELECT is(benefit.confirm('o4')::text, 'ok', 'confirm the order with the code');
SET ROLE tap_admin;
SELECT results_eq($$SELECT state::text, used_order FROM benefit.single_use_code WHERE code::text = pg_temp.code(2)$$,
                  $$VALUES ('used', 'o4')$$, 'the code is used by the order');
SELECT results_eq($$SELECT from_state::text, to_state::text, order_ref FROM benefit.code_history
                     WHERE code::text = pg_temp.code(2) ORDER BY history_id$$,
                  $$VALUES ('issued', 'held', 'o4'), ('held', 'used', 'o4')$$, 'the history has both changes');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used, "left", discount_cents FROM benefit.promo_usage WHERE code = 'PROMO10'$$,
                  $$VALUES (0, 1, 1, 80::bigint)$$, 'promo_usage: one use, 0.80 of discount (10 % of 8.00)');
SET ROLE tap_sales;
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], pg_temp.id('Carol'), 'box-office', NULL, NULL, NULL, 'PROMO10')),
          'promo_contact_limit_reached', 'the same contact cannot use the promo code twice');
SELECT is((benefit.hold('o5', ARRAY[pg_temp.line('mouette', NULL, 1)], pg_temp.id('Alice'), 'box-office', now() + interval '10 minutes',
                        NULL, 'PROMO10')).reason::text, 'ok', 'another contact uses it');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], pg_temp.id('Bob'), 'box-office', NULL, NULL, NULL, 'PROMO10')),
          'promo_limit_reached', 'its total limit (2) is reached by one use and one hold');
SELECT is((benefit.hold('o7', ARRAY[pg_temp.line('cyrano', 'cyrano-2', 2)], pg_temp.id('Alice'), 'box-office', now() + interval '10 minutes')).reason::text,
          'ok', 'Alice holds her 2 tickets of the campaign benefit (2 per contact)');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], pg_temp.id('Alice'), 'box-office'), 'camp'),
          'contact_quota_exhausted', 'her third ticket: refused because of her own limit, not the total quota');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', 'shop', NULL,
                                           ARRAY[pg_temp.code(2)]), 'su'),
          'already_used', 'a used code comes back as already_used');
SELECT is((benefit.hold('o8', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', now() + interval '10 minutes',
                        ARRAY[pg_temp.code(3)], NULL, 'shop')).reason::text, 'ok', 'a hold with the third code');
SET ROLE tap_admin;
SELECT benefit.invalidate_code(pg_temp.code(3)::benefit.code, 'lost') \g /dev/null
SET ROLE tap_sales;
SELECT is(benefit.confirm('o8')::text, 'invalidated', 'an operator invalidated its code meanwhile: the order is not confirmed');
SELECT throws_ok($$SELECT benefit.hold('o6', ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, 'box-office', now() - interval '1 minute')$$,
                 '22023', NULL, 'a hold deadline in the past');
SELECT throws_ok($$SELECT benefit.hold(' ', ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, 'box-office', now() + interval '1 minute')$$,
                 '22023', NULL, 'a blank order reference');


-- an order on several counter rows, and an expiry of orders with and without codes together
SELECT is((benefit.hold('o9', ARRAY[pg_temp.line('cyrano', 'cyrano-2', 2)], NULL, 'box-office', now() + interval '10 minutes')).reason::text,
          'ok', 'a hold of 2 public tickets on another performance');
RESET ROLE;
SELECT cmp_ok((SELECT count(*) FROM benefit.order_hold_counter WHERE order_ref = 'o9'), '>=', 2::bigint,
              'it reserved on several counter rows (slots and the performance)');
SET ROLE tap_sales;
SELECT is(benefit.confirm('o9')::text, 'ok', 'confirm an order of several counter rows');
RESET ROLE;
SELECT results_eq($$SELECT c.kind::text, sum(c.held)::int, sum(c.used)::int FROM benefit.counter c
                     JOIN benefit.benefit b ON b.benefit_id = c.owner_id AND b.code = 'pub'
                    WHERE c.kind IN ('benefit_slot', 'benefit_performance') GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('benefit_performance', 0, 4), ('benefit_slot', 0, 4)$$,
                  'each of its counter rows moved its units from held to used');
SET ROLE tap_sales;
SELECT is((benefit.hold('o10', ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], NULL, 'box-office', now() + interval '10 minutes')).reason::text,
          'ok', 'a hold without codes');
SELECT is((benefit.hold('o11', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', now() + interval '10 minutes',
                        ARRAY[pg_temp.code(1)], NULL, 'shop')).reason::text, 'ok', 'a hold with a code');
RESET ROLE;
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref IN ('o10', 'o11');
SET ROLE tap_sales;
SELECT is(benefit.expire_holds(), 2, 'expire_holds gives back both holds in one run');
RESET ROLE;
SELECT results_eq($$SELECT order_ref, state::text FROM benefit.order_hold WHERE order_ref IN ('o10', 'o11') ORDER BY 1$$,
                  $$VALUES ('o10', 'expired'), ('o11', 'expired')$$, 'both orders are expired');
SELECT results_eq($$SELECT state::text, hold_order FROM benefit.single_use_code WHERE code::text = pg_temp.code(1)$$,
                  $$VALUES ('issued', NULL::text)$$, 'the code of the expired hold is issued again');
SELECT results_eq($$SELECT from_state::text, to_state::text, order_ref, reason FROM benefit.code_history
                     WHERE code::text = pg_temp.code(1) ORDER BY history_id$$,
                  $$VALUES ('issued', 'held', 'o11', NULL::text), ('held', 'issued', 'o11', 'hold expired')$$,
                  'its history says why it came back');
SELECT results_eq($$SELECT sum(c.held)::int, sum(c.used)::int FROM benefit.counter c
                     JOIN benefit.benefit b ON b.benefit_id = c.owner_id AND b.code IN ('pub', 'su')
                    WHERE c.kind = 'benefit_slot'$$, $$VALUES (1, 5)$$,
                  'the units of both expired holds are back (the one held is the hold of the invalidated code)');
SET ROLE tap_sales;
SELECT is(benefit.release('o8')::text, 'ok', 'a hold whose code was invalidated is released');
RESET ROLE;
SELECT results_eq($$SELECT state::text FROM benefit.single_use_code WHERE code::text = pg_temp.code(3)$$,
                  $$VALUES ('invalidated')$$, 'its code stays invalidated');
SET ROLE tap_sales;

-- two holds in one statement: the second is priced on what the first took
SELECT is((SELECT row(pg_temp.used(h.a), (h.a).reason, pg_temp.used(h.b), (h.b).reason, pg_temp.why(h.b, 'pub'))::text
             FROM (WITH x AS MATERIALIZED (
                       SELECT benefit.hold('x1', ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], NULL, 'box-office',
                                           now() + interval '10 minutes') AS a,
                              benefit.hold('x2', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'box-office',
                                           now() + interval '10 minutes') AS b)
                   SELECT * FROM x) h),
          '(pub,ok,,ok,quota_exhausted)',
          'the first hold takes the last unit of the quota, the second is priced without it');

-- hold_code, then a hold of the same order naming no code: the basket takes the codes order over
SELECT is(benefit.hold_code(pg_temp.code(1)::benefit.code, 'y1', now() + interval '10 minutes', 'web', 'shop')::text, 'ok',
          'hold_code of a code for y1');
SELECT is((SELECT row(h.reason, pg_temp.used(h), h.order_ref)::text
             FROM benefit.hold('y1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', now() + interval '10 minutes',
                               NULL, NULL, 'shop') h),
          '(ok,su,y1)', 'a hold of y1 naming no code takes it over, priced with its code');
SET ROLE tap_admin;
SELECT results_eq($$SELECT state::text, hold_order FROM benefit.single_use_code WHERE code::text = pg_temp.code(1)$$,
                  $$VALUES ('held', 'y1')$$, 'the code is held by the basket');
SET ROLE tap_sales;
-- what an order writes is not the sales role's to read
SELECT throws_ok($$SELECT * FROM benefit.counter$$, '42501', NULL, 'the sales role cannot read the counters');
SELECT throws_ok($$SELECT * FROM benefit.order_hold$$, '42501', NULL, 'the sales role cannot read the holds');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
