-- tap_promo_budget: a promo code's budget (max_discount_cents_total), the
-- total discount it may give.  price_basket refuses the code
-- (promo_budget_reached) to a basket whose discount is more than the budget
-- left, never gives part of it; hold takes the discount on the budget slots
-- exactly (benefit_internal.take_promo), confirm makes it used, release and
-- expiry give it back; an operator raises the budget while it is used, and
-- cannot lower it below what is held and used (55000); promo_usage shows
-- budget, held, used and left.  The fixture (test/fixtures/offers.sql) is the
-- DBA's (superuser); the calls run as a login granted only benefit_sales, the
-- view as one granted only benefit_report, the promo codes' edits as one
-- granted only benefit_admin.  A line of mouette costs 15.00 after its
-- benefit (10.00 at a base price of 15.00); the codes here give 10 % off.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(44);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

-- a basket of qty mouette tickets at base price each, with a promo code; held for 10 minutes
CREATE FUNCTION pg_temp.price(qty int, promo text, base bigint DEFAULT 2000) RETURNS benefit.priced_basket LANGUAGE sql AS $$
    SELECT benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, qty, base)], NULL, 'box-office', NULL, NULL, NULL, promo) $$;
CREATE FUNCTION pg_temp.hold(ref text, qty int, promo text, base bigint DEFAULT 2000) RETURNS benefit.priced_basket LANGUAGE sql AS $$
    SELECT benefit.hold(ref, ARRAY[pg_temp.line('mouette', NULL, qty, base)], NULL, 'box-office', now() + interval '10 minutes',
                        NULL, promo) $$;
-- budget, held, used, left of a promo code in promo_usage
CREATE FUNCTION pg_temp.budget(promo text) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' ', coalesce(budget_cents::text, 'none'), budget_held_cents, budget_used_cents, coalesce(budget_left_cents::text, 'none'))
      FROM benefit.promo_usage WHERE code = promo $$;

-- configuration
SET ROLE tap_admin;
SELECT lives_ok($$INSERT INTO benefit.promo_code (code, name, percent_off, all_channels, max_discount_cents_total)
                  VALUES ('BUDGET', 'ten euros in all', 10, true, 1000)$$, 'an admin sets a budget of 10.00 on a new code');
SELECT throws_ok($$INSERT INTO benefit.promo_code (code, name, percent_off, all_channels, max_discount_cents_total)
                   VALUES ('ZERO', 'zero', 10, true, 0)$$, '23514', NULL, 'a budget of 0 is refused');
SELECT throws_ok($$INSERT INTO benefit.promo_code (code, name, percent_off, all_channels, max_discount_cents_total)
                   VALUES ('HUGE', 'huge', 10, true, 2147483648)$$, '23514', NULL, 'a budget above 2147483647 cents is refused');
SELECT is(obj_description((SELECT oid FROM pg_constraint WHERE conname = 'promo_code_max_discount_cents_total_check'), 'pg_constraint'),
          'max_discount_cents_total between 1 and 2147483647 minor units, the range of the counters (NULL: no budget)',
          'the constraint says its range');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '1000 0 0 1000', 'promo_usage: a budget of 1000, nothing held or used, 1000 left');
SELECT is(pg_temp.budget('PROMO10'), 'none 0 0 none', 'promo_usage: no budget, nothing left to say');

-- pricing against the budget left
SET ROLE tap_sales;
SELECT is((pg_temp.price(6, 'BUDGET')).promo_discount_cents, 900::bigint, 'six tickets: 9.00 off, within the budget');
SELECT is((pg_temp.price(7, 'BUDGET')).promo_discount_cents, 0::bigint, 'seven tickets would take 10.50 of the 10.00: no discount, not 10.00...');
SELECT is(pg_temp.promo_why(pg_temp.price(7, 'BUDGET')), 'promo_budget_reached', '...with promo_budget_reached');
SELECT is((pg_temp.price(7, 'BUDGET')).total_cents, 10500::bigint, 'the basket is priced without the code');
SELECT is((pg_temp.hold('b1', 6, 'BUDGET')).promo_discount_cents, 900::bigint, 'a hold of six tickets takes 9.00 of the budget');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '1000 900 0 100', 'promo_usage: 9.00 held, 1.00 left');
SET ROLE tap_sales;
SELECT is(pg_temp.promo_why(pg_temp.price(1, 'BUDGET')), 'promo_budget_reached', 'a ticket would take 1.50 of the 1.00 left: refused');
SELECT is(row((pg_temp.hold('b2', 1, 'BUDGET')).reason, (pg_temp.hold('b2x', 1, 'BUDGET')).promo_discount_cents)::text, '(ok,0)',
          'a hold of it is held without the code (as price_basket said)');
SELECT is((pg_temp.price(1, 'BUDGET', 1500)).promo_discount_cents, 100::bigint,
          'a ticket of 10.00 after its benefit takes exactly the 1.00 left: applied');
SELECT is((pg_temp.hold('b3', 1, 'BUDGET', 1500)).promo_discount_cents, 100::bigint, 'and held');
SELECT is(pg_temp.promo_why(pg_temp.price(1, 'BUDGET', 510)), 'promo_budget_reached',
          'the budget spent: even a discount of one cent (10 % of 0.10) is refused');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '1000 1000 0 0', 'promo_usage: the whole budget held, 0 left');

-- the order lifecycle moves the cents with the order
SET ROLE tap_sales;
SELECT is(benefit.confirm('b1')::text, 'ok', 'confirm the first order');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '1000 100 900 0', 'promo_usage: 9.00 used, 1.00 still held');
SET ROLE tap_sales;
SELECT is(benefit.release('b3')::text, 'ok', 'release the last order');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '1000 0 900 100', 'promo_usage: the 1.00 released is left again');
SELECT is((SELECT discount_cents FROM benefit.promo_usage WHERE code = 'BUDGET'), 900::bigint,
          'the discount given (confirmed orders) agrees with the budget used');

-- exact at the hold: take_promo takes exactly what is left, not a cent more (the DBA calls it)
RESET ROLE;
SAVEPOINT take;
INSERT INTO benefit.order_hold (order_ref, channel, held_until, base_cents, lines_cents, promo_discount_cents, total_cents)
VALUES ('t1', 'box-office', now() + interval '1 minute', 0, 0, 0, 0);
SELECT is(benefit_internal.take_promo('t1', pg_temp.id('promo_code', 'BUDGET'), NULL, 101)::text, 'promo_budget_reached',
          'take_promo: 1.01 with 1.00 left is refused');
ROLLBACK TO SAVEPOINT take;
INSERT INTO benefit.order_hold (order_ref, channel, held_until, base_cents, lines_cents, promo_discount_cents, total_cents)
VALUES ('t1', 'box-office', now() + interval '1 minute', 0, 0, 0, 0);
SELECT is(benefit_internal.take_promo('t1', pg_temp.id('promo_code', 'BUDGET'), NULL, 100), NULL,
          'take_promo: exactly the 1.00 left is taken');
SELECT is((SELECT sum(units)::integer FROM benefit.order_hold_counter WHERE order_ref = 't1' AND kind = 'promo_budget'), 100,
          'the order records the 100 cents it holds, spread over the slots');
ROLLBACK TO SAVEPOINT take;

-- the operator changes the budget while it is used
SET ROLE tap_admin;
SELECT lives_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = 2000 WHERE code = 'BUDGET'$$, 'raising the budget while it is used');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '2000 0 900 1100', 'promo_usage: 11.00 left');
SET ROLE tap_sales;
SELECT is((pg_temp.hold('b4', 7, 'BUDGET')).promo_discount_cents, 1050::bigint, 'seven tickets fit now');
SET ROLE tap_admin;
SELECT throws_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = 1949 WHERE code = 'BUDGET'$$, '55000', NULL,
                 'lowering the budget a cent below what is held and used is refused');
SELECT lives_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = 1950 WHERE code = 'BUDGET'$$,
                'lowering it to exactly what is held and used');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), '1950 1050 900 0', 'promo_usage: nothing left');
SET ROLE tap_admin;
SELECT lives_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = NULL WHERE code = 'BUDGET'$$, 'removing the budget');
SET ROLE tap_sales;
SELECT is((pg_temp.hold('b5', 1, 'BUDGET')).promo_discount_cents, 150::bigint, 'without a budget the code applies again');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), 'none 1200 900 none', 'promo_usage: the discount is still counted, with no budget');
SET ROLE tap_admin;
SELECT throws_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = 2000 WHERE code = 'BUDGET'$$, '55000', NULL,
                 'a budget set again counts what was given meanwhile: 20.00 is below the 21.00 held and used');

-- expiry gives the cents back
RESET ROLE;
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref IN ('b4', 'b5');
SET ROLE tap_sales;
SELECT is(benefit.expire_holds(), 2, 'both holds expire');
SET ROLE tap_report;
SELECT is(pg_temp.budget('BUDGET'), 'none 0 900 none', 'promo_usage: their 12.00 came back');
SET ROLE tap_admin;
SELECT lives_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = 900 WHERE code = 'BUDGET'$$,
                'a budget of exactly what was given');
SET ROLE tap_sales;
SELECT is(pg_temp.promo_why(pg_temp.price(1, 'BUDGET')), 'promo_budget_reached', 'and the code is refused at once');

-- a promo code of 0.2.0 has no budget slots until its first hold (the DBA removes them here)
RESET ROLE;
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels) VALUES ('LEGACY', 'of 0.2.0', 10, true);
DELETE FROM benefit.counter WHERE kind = 'promo_budget' AND owner_id = pg_temp.id('promo_code', 'LEGACY');
SET ROLE tap_sales;
SELECT is((pg_temp.hold('b6', 2, 'LEGACY')).reason::text, 'ok', 'its first hold makes its budget slots');
SET ROLE tap_report;
SELECT is(pg_temp.budget('LEGACY'), 'none 300 0 none', 'promo_usage: its 3.00 are counted');
RESET ROLE;
SELECT is((SELECT count(*)::integer FROM benefit.counter WHERE kind = 'promo_budget' AND owner_id = pg_temp.id('promo_code', 'LEGACY')), 16,
          'the 16 slots are there');
SET ROLE tap_admin;
SELECT throws_ok($$UPDATE benefit.promo_code SET max_discount_cents_total = 299 WHERE code = 'LEGACY'$$, '55000', NULL,
                 'and its budget cannot be set below them');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
