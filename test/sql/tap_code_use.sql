-- tap_code_use: using a single-use code.  enter_code (the "Code avantage" box)
-- tells which kind of code was typed and what it unlocks, using nothing;
-- redeem_code returns ok once per code and a reason for every refusal;
-- hold_code, release_code and expire_code_holds hold a code for an order;
-- invalidate_code withdraws one; every change is in the history.  Then the
-- six ways a code can be entered (redeem_code, hold_code, enter_code,
-- available, price_basket, hold) answer the same reason for the same
-- situation: state before benefit, benefit before channel, channel before
-- point of sale (probes that would write are rolled back).  Throttling is
-- tap_throttle's, a hostile search_path tap_search_path's.
-- The fixture is built by the DBA (superuser) on the shared catalogue
-- (test/fixtures/catalogue.sql): single-use benefits on the box office and
-- the web shop "shop" (ce and live, live; soon, not yet valid; past, ended;
-- draft; susp, suspended), 10 codes each for Alpina; the partner benefits
-- hotel (HOTEL-LAC, live) and spa (SPA-2026, draft) at the box office.  The
-- code calls run as a login granted only benefit_sales; the invalidation,
-- the look into codes and history and the lifecycle changes as one granted
-- only benefit_admin; holds written by hand and deadlines moved into the
-- past are the DBA's.
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
SELECT plan(69);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'other-shop', 'Other shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, point_of_sale_id, access_code)
    SELECT v.c, v.c, season_id, v.t::benefit.target_type, 1000,
           CASE WHEN v.t = 'single_use' THEN (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop') END, v.a
      FROM benefit.season,
           (VALUES ('ce', 'single_use', NULL), ('live', 'single_use', NULL), ('soon', 'single_use', NULL), ('past', 'single_use', NULL),
                   ('draft', 'single_use', NULL), ('susp', 'single_use', NULL),
                   ('hotel', 'partner', 'HOTEL-LAC'), ('spa', 'partner', 'SPA-2026')) v(c, t, a);
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT b.benefit_id, c.channel_id FROM benefit.benefit b, benefit.sales_channel c
     WHERE c.code = 'box-office' OR (c.code = 'web' AND b.target_type = 'single_use');
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 50 FROM benefit.benefit, benefit.product WHERE product.code = 'cyrano';
-- live first, then move the windows (a benefit whose validity has ended cannot go live)
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit WHERE code NOT IN ('draft', 'spa') ORDER BY benefit_id;
    PERFORM benefit.suspend(benefit_id) FROM benefit.benefit WHERE code = 'susp';
    PERFORM benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Alpina'), 10, 'letter', 'fr')
       FROM benefit.benefit WHERE target_type = 'single_use' ORDER BY benefit_id;
END $$;
UPDATE benefit.benefit SET valid_from = '2999-01-01' WHERE code = 'soon';
UPDATE benefit.benefit SET valid_from = '2000-01-01', valid_until = '2001-01-01' WHERE code = 'past';
-- the codes of each benefit, in code order: pg_temp.c('ce', 1) is the first code of ce
CREATE FUNCTION pg_temp.note_codes() RETURNS void LANGUAGE sql AS $$
    INSERT INTO pg_temp.fixture_note
    SELECT 'code', b.code || '-' || row_number() OVER (PARTITION BY b.code ORDER BY c.code), c.code::text
      FROM benefit.single_use_code c JOIN benefit.benefit b USING (benefit_id)
        ON CONFLICT DO NOTHING $$;
SELECT pg_temp.note_codes() \g /dev/null
CREATE FUNCTION pg_temp.c(b text, n int) RETURNS benefit.code LANGUAGE sql STABLE AS $$ SELECT pg_temp.fx('code', b || '-' || n)::benefit.code $$;
CREATE FUNCTION pg_temp.r(code benefit.code, ord text, ch text DEFAULT NULL, pos text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT (benefit.redeem_code(code, pg_temp.id('Alice'), ord, ch, pos)).reason::text $$;
CREATE FUNCTION pg_temp.e(t text, ch text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT kind || ' ' || reason || coalesce(' ' || benefit_code, '') FROM benefit.enter_code(t, ch) $$;

SET ROLE tap_sales;
-- the "Code avantage" box tells which kind of code was typed and what it unlocks
SELECT is(pg_temp.e(pg_temp.c('ce', 1)::text), 'single_use ok ce', 'a single-use code, as printed');
SELECT is(pg_temp.e(lower(replace(pg_temp.c('ce', 1)::text, '-', ' '))), 'single_use ok ce', 'typed in lower case with spaces');
SELECT is(pg_temp.e('hotel-lac'), 'partner ok hotel', 'a partner access code, any case');
SELECT is(pg_temp.e('HOTEL-LAC', 'call-centre'), 'partner wrong_channel hotel', 'a partner code on a channel it is not sold on');
SELECT is(pg_temp.e('SPA-2026'), 'partner benefit_not_live spa', 'a partner code of a benefit that is not live');
SELECT is(pg_temp.e('NOPE-NOPE'), 'unknown unknown_code', 'anything else: unknown_code, no error');
SELECT is(pg_temp.e('0000-0000-0000-0'), 'single_use unknown_code', 'a well-formed code never issued');
SELECT is(pg_temp.e(''), 'unknown unknown_code', 'an empty box');
SELECT is(pg_temp.e(NULL), 'unknown unknown_code', 'NULL');
SELECT is(pg_temp.e(repeat('x', 100000)), 'unknown unknown_code', 'a huge text');
SET ROLE tap_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 1)), 'issued', 'entering a code uses nothing');
SET ROLE tap_sales;

-- redeem_code
SELECT is(pg_temp.r(pg_temp.c('ce', 1), 'order-1'), 'ok', 'an issued code of a live benefit is used');
SELECT is(pg_temp.r(pg_temp.c('ce', 1), 'order-2'), 'already_used', 'a second use is refused: already_used');
SELECT is(pg_temp.r(pg_temp.c('ce', 1), 'order-1'), 'already_used', 'even for the same order');
SELECT is(pg_temp.r('0000-0000-0000-0', 'order-3'), 'unknown_code', 'a well-formed code that was never issued: unknown_code');
SELECT is(pg_temp.r(pg_temp.c('soon', 1), 'order-4'), 'not_yet_valid', 'before the validity window: not_yet_valid');
SELECT is(pg_temp.r(pg_temp.c('past', 1), 'order-5'), 'expired', 'after the validity window: expired');
SELECT is(pg_temp.r(pg_temp.c('draft', 1), 'order-6'), 'benefit_not_live', 'a benefit that is not live: benefit_not_live');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'call-centre'), 'wrong_channel', 'a channel the benefit is not sold on: wrong_channel');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'web', 'other-shop'), 'wrong_point_of_sale', 'the web, but another shop: wrong_point_of_sale');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'web'), 'wrong_point_of_sale', 'the web without a shop: wrong_point_of_sale');
SELECT is(pg_temp.r(pg_temp.c('ce', 2), 'order-7', 'web', 'shop'), 'ok', 'the web on its point of sale: ok');
SELECT is(pg_temp.r(pg_temp.c('ce', 3), 'order-8', 'box-office'), 'ok', 'typed in at the box office: ok');
SELECT is((benefit.redeem_code(pg_temp.c('ce', 4), NULL, 'order-9')).reason::text, 'ok', 'an anonymous buyer may use a code');
SET ROLE tap_admin;
SELECT benefit.suspend(benefit_id) FROM benefit.benefit WHERE code = 'ce' \g /dev/null
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 5), 'order-10'), 'benefit_not_live', 'a suspended benefit: benefit_not_live');
SET ROLE tap_admin;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'ce' \g /dev/null
SET ROLE tap_sales;

-- the result row
SELECT results_eq($$SELECT reason::text, code::text, benefit_code, used_at BETWEEN now() AND clock_timestamp() FROM benefit.redeem_code(pg_temp.c('ce', 5), NULL, 'order-11')$$,
                  $$SELECT 'ok'::text, pg_temp.c('ce', 5)::text, 'ce'::text, true$$, 'the result names the code, its benefit and the time of use');
SELECT results_eq($$SELECT reason::text, benefit_code, used_at IS NULL FROM benefit.redeem_code(pg_temp.c('ce', 5), NULL, 'order-12')$$,
                  $$SELECT 'already_used'::text, 'ce'::text, true$$, 'a refusal has no time of use');
SET ROLE tap_admin;
SELECT results_eq($$SELECT state::text, used_order, used_by_contact FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 1)$$,
                  $$SELECT 'used'::text, 'order-1'::text, contact_id FROM benefit.contact WHERE name = 'Alice'$$, 'the code records order and contact');

-- holds (a held code is an order of the ledger: held by hold_code; a hold past its deadline by hand)
SELECT benefit.hold_code(pg_temp.c('ce', 6), 'order-h', clock_timestamp() + interval '10 minutes') \g /dev/null
SELECT is(pg_temp.r(pg_temp.c('ce', 6), 'order-x'), 'held_by_other_order', 'a code held by another order: held_by_other_order');
SELECT is(pg_temp.r(pg_temp.c('ce', 6), 'order-h'), 'ok', 'the holding order may use it');
SELECT benefit.hold_code(pg_temp.c('ce', 7), 'order-h2', clock_timestamp() + interval '10 minutes') \g /dev/null
RESET ROLE;
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref = 'order-h2';
UPDATE benefit.single_use_code SET hold_until = now() - interval '1 second' WHERE code = pg_temp.c('ce', 7);
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 7), 'order-y'), 'ok', 'an expired hold does not protect the code');

-- the hold API: hold, use by the holding order, release, expiry
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-a', now() + interval '15 minutes')::text, 'ok', 'an issued code is held for an order');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-b', now() + interval '15 minutes')::text, 'held_by_other_order', 'another order cannot hold it');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-a', now() + interval '30 minutes')::text, 'ok', 'the same order may extend its hold');
SELECT is(benefit.release_code(pg_temp.c('ce', 9), 'order-b')::text, 'held_by_other_order', 'another order cannot release it');
SELECT is(benefit.release_code(pg_temp.c('ce', 9), 'order-a')::text, 'ok', 'the holding order releases it');
SET ROLE tap_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 9)), 'issued', 'a released code is issued again');
SET ROLE tap_sales;
SELECT is(benefit.release_code(pg_temp.c('ce', 9), 'order-a')::text, 'ok', 'releasing twice is harmless');
SELECT is(benefit.hold_code(pg_temp.c('ce', 1), 'order-c', now() + interval '15 minutes')::text, 'already_used', 'a used code cannot be held');
SELECT is(benefit.hold_code(pg_temp.c('draft', 2), 'order-c', now() + interval '15 minutes')::text, 'benefit_not_live', 'hold checks the benefit like redeem');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-c', now() + interval '15 minutes', 'call-centre')::text, 'wrong_channel', 'hold checks the channel like redeem');
SELECT throws_ok($$SELECT benefit.hold_code(pg_temp.c('ce', 9), 'order-c', now() - interval '1 minute')$$, '22023', 'hold_until must be in the next 7 days', 'a deadline in the past');
SELECT is(benefit.hold_code(pg_temp.c('ce', 9), 'order-d', now() + interval '15 minutes')::text, 'ok', 'held again by order-d');
RESET ROLE;
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref = 'order-d';
UPDATE benefit.single_use_code SET hold_until = now() - interval '1 second' WHERE code = pg_temp.c('ce', 9);
SET ROLE tap_sales;
SELECT is(benefit.expire_code_holds(), 1::bigint, 'expire_code_holds releases the hold past its deadline');
SET ROLE tap_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code = pg_temp.c('ce', 9)), 'issued', 'the expired code is issued again');
SET ROLE tap_sales;
SELECT is(benefit.expire_code_holds(), 0::bigint, 'and nothing else');
SELECT is(pg_temp.r(pg_temp.c('ce', 9), 'order-e'), 'ok', 'another order can now use it');

-- bad input raises
SELECT throws_ok($$SELECT benefit.redeem_code('ZZZZ-ZZZZ-ZZZZ-S', NULL, 'o')$$, '22P02', NULL, 'a mistyped code is an error, not a reason');
SELECT throws_ok($$SELECT benefit.redeem_code(NULL, NULL, 'o')$$, '22004', 'code must not be NULL', 'a NULL code');
SELECT throws_ok($$SELECT benefit.redeem_code(pg_temp.c('ce', 8), NULL, NULL)$$, '22004', 'order_ref must not be NULL', 'a NULL order');
SELECT throws_ok($$SELECT benefit.redeem_code(pg_temp.c('ce', 8), NULL, '  ')$$, '22023', 'order_ref must be 1 to 200 characters, not blank', 'a blank order');
SELECT throws_ok($$SELECT benefit.redeem_code(pg_temp.c('ce', 8), NULL, 'o', 'fax')$$, '22023', 'sales channel "fax" does not exist', 'an unknown channel');

-- invalidation
SET ROLE tap_admin;
SELECT is(benefit.invalidate_code(pg_temp.c('ce', 8), 'lost by the organisation')::text, 'ok', 'an issued code is invalidated');
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('ce', 8), 'order-z'), 'invalidated', 'an invalidated code is refused: invalidated');
SET ROLE tap_admin;
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
    SELECT b.benefit_id, p.product_id, 50 FROM benefit.benefit b, benefit.product p WHERE b.code = 'everywhere' AND p.code = 'cyrano';
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'everywhere';
    PERFORM benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Alpina'), 1, 'letter', 'fr')
       FROM benefit.benefit WHERE code = 'everywhere';
END $$;
SELECT pg_temp.note_codes() \g /dev/null
SET ROLE tap_sales;
SELECT throws_ok($$SELECT pg_temp.r(pg_temp.c('everywhere', 1), 'order-all', 'nowhere', 'shop')$$,
                 '22023', 'sales channel "nowhere" does not exist',
                 'an unknown channel is an error even for a benefit sold on all channels');
SELECT is(pg_temp.r(pg_temp.c('everywhere', 1), 'order-all', 'web', 'shop'), 'ok', 'and the code is still there to use');
RESET ROLE;

-- the six paths, one table of situations
-- the situations: live 2 used, live 3 invalidated, live 4 held by another order, past 2 invalidated
DO $$
BEGIN
    PERFORM benefit.redeem_code(pg_temp.c('live', 2), NULL, 'earlier-order');
    PERFORM benefit.invalidate_code(pg_temp.c('live', 3), 'lost in the mail');
    PERFORM benefit.hold_code(pg_temp.c('live', 4), 'other-order', now() + interval '1 hour');
    PERFORM benefit.invalidate_code(pg_temp.c('past', 2), 'withdrawn');
END $$;

CREATE TEMP TABLE situation (name text PRIMARY KEY, code text, channel text, pos text, expected text);
INSERT INTO situation VALUES
    ('a issued, on its web shop',              pg_temp.c('live', 1), 'web',   'shop',       'ok'),
    ('b issued, at the box office',            pg_temp.c('live', 1), 'box-office',   NULL,         'ok'),
    ('c used',                                 pg_temp.c('live', 2), 'web',   'shop',       'already_used'),
    ('d used, on a wrong channel too',         pg_temp.c('live', 2), 'call-centre', NULL,         'already_used'),
    ('e invalidated',                          pg_temp.c('live', 3), 'web',   'shop',       'invalidated'),
    ('f held by another order',                pg_temp.c('live', 4), 'web',   'shop',       'held_by_other_order'),
    ('g benefit not yet valid',                pg_temp.c('soon', 1), 'web',   'shop',       'not_yet_valid'),
    ('h benefit expired',                      pg_temp.c('past', 1), 'web',   'shop',       'expired'),
    ('i invalidated, benefit expired too',     pg_temp.c('past', 2), 'web',   'shop',       'invalidated'),
    ('j benefit draft',                        pg_temp.c('draft', 1), 'web',  'shop',       'benefit_not_live'),
    ('k benefit suspended',                    pg_temp.c('susp', 1), 'box-office',   NULL,         'benefit_not_live'),
    ('l suspended, on a wrong channel too',    pg_temp.c('susp', 1), 'call-centre', NULL,         'benefit_not_live'),
    ('m channel the benefit is not sold on',   pg_temp.c('live', 5), 'call-centre', NULL,         'wrong_channel'),
    ('n the web, another shop',                pg_temp.c('live', 5), 'web',   'other-shop', 'wrong_point_of_sale'),
    ('o the web, no shop',                     pg_temp.c('live', 5), 'web',   NULL,         'wrong_point_of_sale'),
    ('p never issued',                         '0000-0000-0000-0',   'web',   'shop',       'unknown_code');

-- runs a statement returning one text and rolls back whatever it wrote
CREATE FUNCTION pg_temp.probe(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    BEGIN
        EXECUTE q INTO r;
        RAISE EXCEPTION 'undo the probe' USING ERRCODE = 'BP001';
    EXCEPTION WHEN SQLSTATE 'BP001' THEN
        NULL;
    END;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.via_redeem(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format('SELECT (benefit.redeem_code(%L::benefit.code, NULL, %L, %L, %L)).reason::text',
                                code, 'probe-order', ch, pos)) $$;
CREATE FUNCTION pg_temp.via_hold_code(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format('SELECT benefit.hold_code(%L::benefit.code, %L, now() + interval %L, %L, %L)::text',
                                code, 'probe-order', '1 hour', ch, pos)) $$;
CREATE FUNCTION pg_temp.via_enter(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT e.reason::text FROM benefit.enter_code(code, ch, pos) e $$;
CREATE FUNCTION pg_temp.via_available(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(a.reason::text, ',') FROM benefit.available(NULL, ch, NULL, ARRAY[code], pos) a
     WHERE a.entered_code = code $$;
CREATE FUNCTION pg_temp.via_hold(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format(
        'SELECT coalesce((SELECT string_agg(r.reason::text, %L) FROM unnest(h.refusals) r WHERE r.entered_code = %L),
                         CASE WHEN (h.lines[1]).benefit_code IS NOT NULL THEN %L END)
           FROM benefit.hold(%L, ARRAY[ROW(pg_temp.id(''product'', ''cyrano''), NULL, NULL, NULL, 1, 2000)::benefit.basket_line],
                             NULL, %L, now() + interval %L, ARRAY[%L], NULL, %L) h',
        ',', code, 'ok', 'probe-order', ch, '1 hour', code, pos)) $$;
CREATE FUNCTION pg_temp.via_price(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT string_agg(r.reason::text, ',') FROM unnest(b.refusals) r WHERE r.entered_code = code),
                    CASE WHEN (b.lines[1]).benefit_code IS NOT NULL THEN 'ok' END)
      FROM benefit.price_basket(ARRAY[ROW(pg_temp.id('product', 'cyrano'), NULL, NULL, NULL, 1, 2000)::benefit.basket_line],
                                NULL, ch, pos, NULL, ARRAY[code]) b $$;
GRANT SELECT ON situation TO tap_sales;

SET ROLE tap_sales;
SELECT results_eq($$SELECT name, pg_temp.via_redeem(code, channel, pos) FROM situation ORDER BY name$$,
                  $$SELECT name, expected FROM situation ORDER BY name$$, 'redeem_code answers every situation as expected');
SELECT results_eq($$SELECT name, pg_temp.via_hold_code(code, channel, pos) FROM situation ORDER BY name$$,
                  $$SELECT name, expected FROM situation ORDER BY name$$, 'hold_code answers the same');
SELECT results_eq($$SELECT name, pg_temp.via_enter(code, channel, pos) FROM situation ORDER BY name$$,
                  $$SELECT name, expected FROM situation ORDER BY name$$, 'enter_code answers the same');
SELECT results_eq($$SELECT name, pg_temp.via_available(code, channel, pos) FROM situation ORDER BY name$$,
                  $$SELECT name, expected FROM situation ORDER BY name$$, 'available answers the same for the entered code');
SELECT results_eq($$SELECT name, pg_temp.via_price(code, channel, pos) FROM situation ORDER BY name$$,
                  $$SELECT name, expected FROM situation ORDER BY name$$,
                  'price_basket answers the same (ok: the line is priced with the code''s benefit)');
SELECT results_eq($$SELECT name, pg_temp.via_hold(code, channel, pos) FROM situation ORDER BY name$$,
                  $$SELECT name, expected FROM situation ORDER BY name$$,
                  'hold answers the same (ok: the basket is held with the code''s benefit)');
SET ROLE tap_admin;
SELECT is((SELECT count(*) FROM benefit.code_history WHERE order_ref = 'probe-order')::int, 0,
          'the probes left nothing behind');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
