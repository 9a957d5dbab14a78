-- tap_redeem: benefit.redeem_code returns ok once per code and a reason for
-- every refusal; benefit.invalidate_code; every change is in the history.
-- The fixture is built by the DBA (superuser); the code calls run as a login
-- granted only benefit_sales, the invalidation, the look into codes and history
-- and the lifecycle changes as one granted only benefit_admin; holds written
-- by hand and deadlines moved into the past are the DBA's.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SET LOCAL search_path = public, benefit;
SELECT plan(52);

INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s26', 'A long season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office'), ('web', 'Web', 'web'), ('phone', 'Phone', 'call_centre');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT v.c, v.c, channel_id FROM benefit.sales_channel, (VALUES ('shop'), ('other-shop')) v(c) WHERE code = 'web';
INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'p', 'P', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, valid_from, valid_until, point_of_sale_id)
    SELECT v.c, v.c, season_id, 'single_use', 1000, v.f::timestamptz, v.u::timestamptz,
           (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop')
      FROM benefit.season,
           (VALUES ('ce', NULL, NULL), ('soon', '2999-01-01', NULL), ('past', '2000-01-01', '2001-01-01'), ('draft', NULL, NULL)) v(c, f, u);
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT benefit_id, channel_id FROM benefit.benefit, benefit.sales_channel WHERE benefit.sales_channel.code IN ('box', 'web');
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT benefit_id, product_id, 50 FROM benefit.benefit, benefit.product;
-- live first, then move the windows (a benefit whose validity has ended cannot go live)
UPDATE benefit.benefit SET valid_from = NULL, valid_until = NULL WHERE code IN ('soon', 'past');
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code <> 'draft' \g /dev/null
UPDATE benefit.benefit SET valid_from = '2999-01-01' WHERE code = 'soon';
UPDATE benefit.benefit SET valid_from = '2000-01-01', valid_until = '2001-01-01' WHERE code = 'past';
INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Acme', 'ce@acme.example'), ('person', 'Ada', 'ada@example.org');
SELECT benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Acme'), 10, 'letter', 'fr')
  FROM benefit.benefit ORDER BY benefit_id \g /dev/null
-- the n-th code of a benefit, in code order (a fixture lookup: it runs as the DBA who built the
-- fixture, SECURITY DEFINER, since the sales login cannot list codes; it is not what is tested)
CREATE FUNCTION pg_temp.c(b text, n int) RETURNS benefit.code LANGUAGE sql SECURITY DEFINER AS $$
    SELECT c.code FROM benefit.single_use_code c JOIN benefit.benefit USING (benefit_id)
     WHERE benefit.code = b ORDER BY c.code OFFSET n - 1 LIMIT 1 $$;
CREATE FUNCTION pg_temp.ada() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$ SELECT contact_id FROM benefit.contact WHERE name = 'Ada' $$;
CREATE FUNCTION pg_temp.r(code benefit.code, ord text, ch text DEFAULT NULL, pos text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT (benefit.redeem_code(code, pg_temp.ada(), ord, ch, pos)).reason::text $$;
CREATE ROLE tap_rd_sales LOGIN IN ROLE benefit_sales;
CREATE ROLE tap_rd_admin LOGIN IN ROLE benefit_admin;

SET ROLE tap_rd_sales;

SELECT is(pg_temp.r(pg_temp.c('ce', 1), 'order-1'), 'ok', 'an issued code of a live benefit is used');
SELECT is(pg_temp.r(pg_temp.c('ce', 1), 'order-2'), 'already_used', 'a second use is refused: already_used');
SELECT is(pg_temp.r(pg_temp.c('ce', 1), 'order-1'), 'already_used', 'even for the same order');
SELECT is(pg_temp.r('0000-0000-0000-0', 'order-3'), 'unknown_code', 'a well-formed code that was never issued: unknown_code');
SELECT is(pg_temp.r(pg_temp.c('soon', 1), 'order-4'), 'not_yet_valid', 'before the validity window: not_yet_valid');
SELECT is(pg_temp.r(pg_temp.c('past', 1), 'order-5'), 'expired', 'after the validity window: expired');
SELECT is(pg_temp.r(pg_temp.c('draft', 1), 'order-6'), 'benefit_not_live', 'a benefit that is not live: benefit_not_live');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'phone'), 'wrong_channel', 'a channel the benefit is not sold on: wrong_channel');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'web', 'other-shop'), 'wrong_point_of_sale', 'the web, but another shop: wrong_point_of_sale');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'web'), 'wrong_point_of_sale', 'the web without a shop: wrong_point_of_sale');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'web', 'shop'), 'ok', 'the web on its point of sale: ok');
SELECT is(pg_temp.r(pg_temp.c('ce', 3), 'order-8', 'box'), 'ok', 'typed in at the box office: ok');
SELECT is((benefit.redeem_code(pg_temp.c('ce', 4), NULL, 'order-9')).reason::text, 'ok', 'an anonymous buyer may use a code');
SET ROLE tap_rd_admin;
SELECT benefit.suspend(benefit_id) FROM benefit.benefit WHERE code = 'ce' \g /dev/null
SET ROLE tap_rd_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 5), 'order-10'), 'benefit_not_live', 'a suspended benefit: benefit_not_live');
SET ROLE tap_rd_admin;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'ce' \g /dev/null
SET ROLE tap_rd_sales;

-- the result row
SELECT results_eq($$SELECT reason::text, code::text, benefit_code, used_at = now() FROM benefit.redeem_code(pg_temp.c('ce', 5), NULL, 'order-11')$$,
                  $$SELECT 'ok'::text, pg_temp.c('ce', 5)::text, 'ce'::text, true$$, 'the result names the code, its benefit and the time of use');
SELECT results_eq($$SELECT reason::text, benefit_code, used_at IS NULL FROM benefit.redeem_code(pg_temp.c('ce', 5), NULL, 'order-12')$$,
                  $$SELECT 'already_used'::text, 'ce'::text, true$$, 'a refusal has no time of use');
SET ROLE tap_rd_admin;
SELECT results_eq($$SELECT state::text, used_order, used_by_contact FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 1)$$,
                  $$SELECT 'used'::text, 'order-1'::text, contact_id FROM benefit.contact WHERE name = 'Ada'$$, 'the code records order and contact');

-- holds (held codes are written by the hold API; here by hand)
RESET ROLE;
UPDATE benefit.single_use_code SET state = 'held', hold_order = 'order-h', hold_until = now() + interval '10 minutes' WHERE code = pg_temp.c('ce', 6);
SET ROLE tap_rd_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 6), 'order-x'), 'held_by_other_order', 'a code held by another order: held_by_other_order');
SELECT is(pg_temp.r(pg_temp.c('ce', 6), 'order-h'), 'ok', 'the holding order may use it');
RESET ROLE;
UPDATE benefit.single_use_code SET state = 'held', hold_order = 'order-h2', hold_until = now() - interval '1 second' WHERE code = pg_temp.c('ce', 7);
SET ROLE tap_rd_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 7), 'order-y'), 'ok', 'an expired hold does not protect the code');

-- the hold API: hold, use by the holding order, release, expiry
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-a', now() + interval '15 minutes')::text, 'ok', 'an issued code is held for an order');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-b', now() + interval '15 minutes')::text, 'held_by_other_order', 'another order cannot hold it');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-a', now() + interval '30 minutes')::text, 'ok', 'the same order may extend its hold');
SELECT is(benefit.release_code(pg_temp.c('ce', 9), 'order-b')::text, 'held_by_other_order', 'another order cannot release it');
SELECT is(benefit.release_code(pg_temp.c('ce', 9), 'order-a')::text, 'ok', 'the holding order releases it');
SET ROLE tap_rd_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 9)), 'issued', 'a released code is issued again');
SET ROLE tap_rd_sales;
SELECT is(benefit.release_code(pg_temp.c('ce', 9), 'order-a')::text, 'ok', 'releasing twice is harmless');
SELECT is(benefit.hold_code(pg_temp.c('ce', 1), 'order-c', now() + interval '15 minutes')::text, 'already_used', 'a used code cannot be held');
SELECT is(benefit.hold_code(pg_temp.c('draft', 2), 'order-c', now() + interval '15 minutes')::text, 'benefit_not_live', 'hold checks the benefit like redeem');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-c', now() + interval '15 minutes', 'phone')::text, 'wrong_channel', 'hold checks the channel like redeem');
SELECT throws_ok($$SELECT benefit.hold_code(pg_temp.c('ce', 9), 'order-c', now() - interval '1 minute')$$, '22023', 'hold_until must be in the next 7 days', 'a deadline in the past');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-d', now() + interval '15 minutes')::text, 'ok', 'held again by order-d');
RESET ROLE;
UPDATE benefit.single_use_code SET hold_until = now() - interval '1 second' WHERE code = pg_temp.c('ce', 9);
SET ROLE tap_rd_sales;
SELECT is(benefit.expire_code_holds(), 1::bigint, 'expire_code_holds releases the hold past its deadline');
SET ROLE tap_rd_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 9)), 'issued', 'the expired code is issued again');
SET ROLE tap_rd_sales;
SELECT is(benefit.expire_code_holds(), 0::bigint, 'and nothing else');
SELECT is(pg_temp.r(pg_temp.c('ce', 9), 'order-e'), 'ok', 'another order can now use it');

-- a caller's search_path cannot hijack the operators redeem_code uses
RESET ROLE;
CREATE SCHEMA tap_evil;
CREATE FUNCTION tap_evil.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hijacked'; END $$;
CREATE OPERATOR tap_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = tap_evil.text_eq);
GRANT USAGE ON SCHEMA tap_evil TO PUBLIC;
GRANT EXECUTE ON FUNCTION tap_evil.text_eq(text, text) TO PUBLIC;
SELECT pg_temp.c('ce', 10) AS evil_code \gset
SET ROLE tap_rd_sales;
SET LOCAL search_path = tap_evil, pg_catalog, public, benefit;
CREATE TEMP TABLE evil_result AS SELECT (benefit.redeem_code(:'evil_code', NULL, 'order-evil', 'box')).reason::text AS reason;
SET LOCAL search_path = public, benefit;
SELECT is((SELECT reason FROM evil_result), 'ok',
          'an operator planted earlier in the caller''s search_path is not used by redeem_code');

-- bad input raises
SELECT throws_ok($$SELECT benefit.redeem_code('ZZZZ-ZZZZ-ZZZZ-S', NULL, 'o')$$, '22P02', NULL, 'a mistyped code is an error, not a reason');
SELECT throws_ok($$SELECT benefit.redeem_code(NULL, NULL, 'o')$$, '22004', 'code must not be NULL', 'a NULL code');
SELECT throws_ok($$SELECT benefit.redeem_code(pg_temp.c('ce', 8), NULL, NULL)$$, '22004', 'order_ref must not be NULL', 'a NULL order');
SELECT throws_ok($$SELECT benefit.redeem_code(pg_temp.c('ce', 8), NULL, '  ')$$, '22023', 'order_ref must be 1 to 200 characters, not blank', 'a blank order');
SELECT throws_ok($$SELECT benefit.redeem_code(pg_temp.c('ce', 8), NULL, 'o', 'fax')$$, '22023', 'sales channel "fax" does not exist', 'an unknown channel');

-- invalidation
SET ROLE tap_rd_admin;
SELECT is(benefit.invalidate_code(pg_temp.c('ce', 8), 'lost by the organisation')::text, 'ok', 'an issued code is invalidated');
SET ROLE tap_rd_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 8), 'order-z'), 'invalidated', 'an invalidated code is refused: invalidated');
SET ROLE tap_rd_admin;
SELECT is(benefit.invalidate_code(pg_temp.c('ce', 8), 'again')::text, 'invalidated', 'invalidating twice says so');
SELECT is(benefit.invalidate_code(pg_temp.c('ce', 1), 'too late')::text, 'already_used', 'a used code cannot be invalidated');
SELECT is(benefit.invalidate_code('0000-0000-0000-0', 'x')::text, 'unknown_code', 'an unknown code');
SELECT throws_ok($$SELECT benefit.invalidate_code(pg_temp.c('ce', 9), ' ')$$, '22023', 'a reason is required to invalidate a code', 'a reason is required');

-- the history: one row per change, matching the states
SELECT is_empty($$
    SELECT c.code FROM benefit.single_use_code c
     WHERE c.state <> 'issued'
       AND c.state IS DISTINCT FROM (SELECT h.to_state FROM benefit.code_history h WHERE h.code = c.code ORDER BY h.history_id DESC LIMIT 1)$$,
    'the last history row of every changed code is its state');
SELECT results_eq($$SELECT from_state::text, to_state::text, order_ref, reason FROM benefit.code_history WHERE code = pg_temp.c('ce', 8) ORDER BY history_id$$,
                  $$VALUES ('issued'::text, 'invalidated'::text, NULL::text, 'lost by the organisation'::text)$$, 'an invalidation records why');

-- a benefit sold on all channels: an unknown channel code is still an error, never a use
RESET ROLE;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, point_of_sale_id)
    SELECT 'everywhere', 'everywhere', season_id, 'single_use', true, 10, (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop')
      FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT b.benefit_id, p.product_id, 50 FROM benefit.benefit b, benefit.product p WHERE b.code = 'everywhere';
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'everywhere';
    PERFORM benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Acme'), 1, 'letter', 'fr')
       FROM benefit.benefit WHERE code = 'everywhere';
END $$;
SET ROLE tap_rd_sales;
SELECT throws_ok($$SELECT pg_temp.r(pg_temp.c('everywhere', 1), 'order-all', 'nowhere', 'shop')$$,
                 '22023', 'sales channel "nowhere" does not exist',
                 'an unknown channel is an error even for a benefit sold on all channels');
SELECT is(pg_temp.r(pg_temp.c('everywhere', 1), 'order-all', 'web', 'shop'), 'ok', 'and the code is still there to use');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
