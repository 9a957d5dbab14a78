-- tap_promo_codes: a promo code on the whole basket.  price_basket applies it
-- after the line benefits and allocates its discount to the lines, to the
-- cent; every refusal comes back with its reason (unknown, inactive, outside
-- its validity, wrong channel, indicator level, contact required, minimum
-- amount).  Its limits through holds are tap_orders'.  A promo code has no
-- lifecycle, but its configuration problems are listed and counted.  The
-- fixture (test/fixtures/offers.sql) is built by the DBA (superuser); the
-- pricing runs as a login granted only benefit_sales, the configuration as
-- one granted only benefit_admin, promo_usage as one granted only
-- benefit_report.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(19);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

-- the promo code on the whole basket (tote carries no benefit)
SET ROLE tap_sales;
SELECT results_eq($$SELECT b.lines_cents, b.promo_discount_cents, b.total_cents, (b.lines[1]).promo_discount_cents,
                           (b.lines[2]).promo_discount_cents, (b.lines[3]).promo_discount_cents
                      FROM benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1, 333), pg_temp.line('tote', NULL, 1, 333),
                                                      pg_temp.line('tote', NULL, 1, 333)],
                                                pg_temp.id('Carol'), 'box-office', NULL, NULL, NULL, 'promo10') b$$,
                  $$VALUES (999::bigint, 100::bigint, 899::bigint, 34::bigint, 33::bigint, 33::bigint)$$,
                  '10 % of 3 x 3.33 is 1.00, allocated 0.34 + 0.33 + 0.33 (to the cent, any case of the code)');
SELECT is((SELECT sum((l).promo_discount_cents) FROM unnest((benefit.price_basket(
              ARRAY[pg_temp.line('cyrano', 'cyrano-1', 3), pg_temp.line('tote', NULL, 7, 1999), pg_temp.line('tote', NULL, 1, 1)],
              pg_temp.id('Carol'), 'box-office', NULL, NULL, NULL, 'PROMO10')).lines) l), 1939::numeric,
          'the parts of a discount always add up to it (10 % of 3 x 18.00 + 7 x 19.99 + 0.01 = 193.94 is 19.39)');
SELECT results_eq($$SELECT b.promo_discount_cents, b.total_cents
                      FROM benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1, 300)], NULL, 'box-office', NULL, NULL, NULL, 'BIG') b$$,
                  $$VALUES (300::bigint, 0::bigint)$$, 'an amount above the basket takes the basket, never more');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', NULL, NULL, NULL, 'NOSUCH')),
          'unknown_promo_code', 'an unknown promo code');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', NULL, NULL, NULL, 'OFF')),
          'promo_not_active', 'an inactive promo code');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', NULL, NULL, NULL, 'OLD')),
          'expired', 'an expired promo code');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', NULL, NULL, NULL, 'SOON')),
          'not_yet_valid', 'a promo code before its validity');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', NULL, NULL, NULL, 'WEBONLY')),
          'wrong_channel', 'a promo code on a channel it is not for');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'web', NULL, NULL, NULL, 'WEBONLY')),
          NULL, 'the same promo code on its channel applies');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], pg_temp.id('Carol'), 'box-office', NULL, NULL, NULL, 'FIVE')),
          'indicator_level_required', 'a promo code for an indicator level, for a contact without it');
SELECT is((benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], pg_temp.id('Bob'), 'box-office', NULL, NULL, NULL, 'FIVE')).promo_discount_cents,
          500::bigint, 'the same promo code for a contact with the level');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1)], NULL, 'box-office', NULL, NULL, NULL, 'PROMO10')),
          'contact_required', 'a promo code limited per contact needs a known contact');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1, 400)], pg_temp.id('Carol'), 'box-office', NULL, NULL, NULL, 'PROMO10')),
          'min_amount_not_reached', 'a basket below the minimum amount');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1, 540)], pg_temp.id('Carol'), 'box-office', NULL, NULL, NULL, 'PROMO10')),
          'min_amount_not_reached', 'the minimum is measured after line benefits (5.40 - 10 % = 4.86 < 5.00)');
RESET ROLE;

-- promo codes have no lifecycle, but their problems are listed (not refused: a script may
-- add a code's channels in a later statement)
SET ROLE tap_admin;
INSERT INTO benefit.promo_code (code, name, percent_off, season_id, valid_until)
    SELECT 'NOWHERE', 'No channel', 10, season_id, '1999-12-01' FROM benefit.season WHERE code = 'lac';
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels) VALUES ('BOTH-WAYS', 'Both', 10, true), ('FINE', 'Fine', 10, true);
INSERT INTO benefit.promo_code_channel (promo_code_id, channel_id)
    SELECT p.promo_code_id, c.channel_id FROM benefit.promo_code p, benefit.sales_channel c WHERE p.code = 'BOTH-WAYS' AND c.code = 'web';
SELECT results_eq($$SELECT field, problem FROM benefit.list_promo_problems((SELECT promo_code_id FROM benefit.promo_code WHERE code = 'NOWHERE')) ORDER BY 1, 2$$,
                  $$VALUES ('channels', 'no sales channel: set all_channels or add rows to promo_code_channel'),
                           ('valid_until', 'the validity ends before the season starts (2000-01-01)'),
                           ('valid_until', 'the validity has already ended')$$,
                  'list_promo_problems names the field of each problem of a promo code');
SELECT results_eq($$SELECT field FROM benefit.list_promo_problems((SELECT promo_code_id FROM benefit.promo_code WHERE code = 'BOTH-WAYS'))$$,
                  $$VALUES ('channels')$$, 'all_channels and channel rows together are a problem, as for benefits');
SELECT is_empty($$SELECT * FROM benefit.list_promo_problems((SELECT promo_code_id FROM benefit.promo_code WHERE code = 'FINE'))$$,
                'a complete promo code has no problem');
SET ROLE tap_report;
SELECT results_eq($$SELECT code, problems FROM benefit.promo_usage WHERE code IN ('NOWHERE', 'BOTH-WAYS', 'FINE') ORDER BY code$$,
                  $$VALUES ('BOTH-WAYS', 1::bigint), ('FINE', 0::bigint), ('NOWHERE', 3::bigint)$$,
                  'promo_usage counts each code''s problems');
SET ROLE tap_admin;
SELECT is_empty($$SELECT * FROM benefit.list_promo_problems(-1)$$, 'an unknown promo code has no problem to list');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
