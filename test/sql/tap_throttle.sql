-- tap_throttle: wrong codes throttle who enters them.  After
-- benefit.throttle_failures wrong codes (unknown, well-formed or malformed)
-- from one client key or one contact within benefit.throttle_window, every
-- call that takes a code (enter_code, redeem_code, hold_code, release_code,
-- record_ticket, the codes of available and price_basket) answers throttled,
-- a right code too, which stays issued; a valid code does not reset the
-- count; client keys are kept hashed; ended windows are purged, an operator
-- forgets a count; only a superuser may loosen the settings.  The counts live
-- in shared memory, outside transactions: the file starts from none (the
-- DBA's forget_code_attempts).  The fixture is built by the DBA (superuser)
-- on the shared catalogue (test/fixtures/catalogue.sql): a public benefit, a
-- partner one (PARTNER1), a single-use one on the web shop "shop" with a
-- code for Alpina, and a contact who guesses codes.  The settings are the
-- DBA's; the calls are a login's granted only benefit_sales.
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
SELECT benefit.forget_code_attempts() >= 0 AS forgotten \gset
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, access_code, point_of_sale_id)
    SELECT v.c, v.c, season_id, v.t::benefit.target_type, true, 10, v.a,
           CASE WHEN v.t = 'single_use' THEN (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop') END
      FROM benefit.season, (VALUES ('pub', 'public', NULL), ('partner', 'partner', 'PARTNER1'), ('live', 'single_use', NULL)) v(c, t, a);
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 10 FROM benefit.benefit, benefit.product WHERE product.code = 'cyrano';
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit ORDER BY benefit_id;
END $$;
INSERT INTO fixture_note
SELECT 'batch', 'batch', benefit.generate_codes(b.benefit_id, c.contact_id, 1, 'letter', 'fr')::text
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'live' AND c.name = 'Alpina';
INSERT INTO fixture_note SELECT 'code', 'code1', code::text FROM benefit.single_use_code;
CREATE FUNCTION pg_temp.code(i integer) RETURNS text LANGUAGE sql STABLE AS $$ SELECT pg_temp.fx('code' || i) $$;
INSERT INTO benefit.contact (kind, name) VALUES ('person', 'Guesser');
SELECT ARRAY[ROW(product_id, NULL, NULL, NULL, 1, 2000)::benefit.basket_line]::text AS basket FROM benefit.product WHERE code = 'cyrano' \gset

-- 3 wrong codes from one client key (or one contact) in the window, then throttled
SELECT pg_temp.id('Guesser') AS guesser \gset
-- a well-formed code for 12 data characters: the one check character that makes it valid
CREATE FUNCTION pg_temp.valid_code(data text) RETURNS text LANGUAGE sql AS $$
    SELECT data || c FROM regexp_split_to_table('0123456789ABCDEFGHJKMNPQRSTVWXYZ', '') c
     WHERE benefit.is_valid_code(data || c) LIMIT 1 $$;
-- the setting is the superuser's; the calls are the sales login's
SET benefit.throttle_failures = 3;
SET ROLE tap_sales;
SELECT results_eq($$SELECT reason::text FROM benefit.enter_code('NOPE-1', 'box-office', NULL, NULL, 'k1')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('0000-0000-0000-0', 'box-office', NULL, NULL, 'k1')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('O0O0-XXXX', 'box-office', NULL, NULL, 'k1')$$,
                  $$VALUES ('unknown_code'), ('unknown_code'), ('unknown_code')$$,
                  'three wrong codes (unknown, unknown well-formed, malformed) are answered as such');
SELECT is((SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box-office', NULL, NULL, 'k1')), 'throttled',
          'then even a right code is answered throttled for that client key');
SELECT is((SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box-office', NULL, NULL, 'k2')), 'ok',
          'another client key is not throttled');
SELECT is((SELECT entered_code || ':' || reason FROM unnest((benefit.price_basket(:'basket'::benefit.basket_line[], NULL, 'box-office',
                                                              NULL, NULL, ARRAY['PARTNER1'], NULL, 'k1')).refusals)
            WHERE reason = 'throttled'), 'PARTNER1:throttled', 'price_basket does not look at the codes of a throttled client key');
SELECT is((SELECT reason::text FROM benefit.available(NULL, 'box-office', NULL, ARRAY['PARTNER1'], NULL, 'k1') WHERE entered_code IS NOT NULL),
          'throttled', 'nor does available');
SELECT results_eq($$SELECT reason::text FROM benefit.enter_code('NOPE-2', 'box-office', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('NOPE-3', 'box-office', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box-office', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('NOPE-4', 'box-office', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box-office', NULL, NULL, 'k3')$$,
                  $$VALUES ('unknown_code'), ('unknown_code'), ('ok'), ('unknown_code'), ('throttled')$$,
                  'a valid code in between does not reset the count');
SELECT results_eq(format($$SELECT reason::text FROM benefit.redeem_code('0000-0000-0000-0', %1$s, 'g1')
                    UNION ALL SELECT reason::text FROM benefit.redeem_code(pg_temp.valid_code('0000-0000-0001-')::benefit.code, %1$s, 'g2')
                    UNION ALL SELECT reason::text FROM benefit.redeem_code(pg_temp.valid_code('0000-0000-0002-')::benefit.code, %1$s, 'g3')
                    UNION ALL SELECT reason::text FROM benefit.redeem_code(pg_temp.valid_code('0000-0000-0003-')::benefit.code, %1$s, 'g4')$$, :guesser),
                  $$VALUES ('unknown_code'), ('unknown_code'), ('unknown_code'), ('throttled')$$,
                  'redeem_code: a contact guessing codes is throttled after three wrong ones');
-- every call that takes a code goes through the same throttle
SELECT results_eq(format($$SELECT benefit.hold_code(%L, 'g5', now() + interval '1 hour', contact_id => %s)::text
                           UNION ALL SELECT benefit.release_code(%L, 'g5', %s)::text$$,
                         pg_temp.valid_code('0000-0000-0004-'), :guesser, pg_temp.valid_code('0000-0000-0004-'), :guesser),
                  $$VALUES ('throttled'), ('throttled')$$,
                  'hold_code and release_code answer throttled to the throttled contact');
SELECT throws_ok(format($$SELECT benefit.record_ticket('T-G', 'g5', %s, %L, %s)$$,
                        (SELECT benefit_id FROM benefit.available(NULL, 'box-office') LIMIT 1), pg_temp.valid_code('0000-0000-0004-'), :guesser),
                 'VB003', 'too many wrong codes from this contact or client key lately',
                 'record_ticket does not look at a code from the throttled contact');
SELECT results_eq(format($$SELECT benefit.release_code(%L, 'g6', client_key => 'k4')::text
                           UNION ALL SELECT benefit.hold_code(%L, 'g6', now() + interval '1 hour', client_key => 'k4')::text
                           UNION ALL SELECT benefit.release_code(%L, 'g6', client_key => 'k4')::text
                           UNION ALL SELECT benefit.hold_code(%L, 'g6', now() + interval '1 hour', client_key => 'k4')::text$$,
                         pg_temp.valid_code('0000-0000-0005-'), pg_temp.valid_code('0000-0000-0006-'),
                         pg_temp.valid_code('0000-0000-0007-'), pg_temp.valid_code('0000-0000-0008-')),
                  $$VALUES ('unknown_code'), ('unknown_code'), ('unknown_code'), ('throttled')$$,
                  'unknown codes given to release_code and hold_code count: the fourth is throttled');
RESET ROLE;
SELECT is((SELECT count(*) || ' ' || count(*) FILTER (WHERE key ~ 'k[0-9]') FROM benefit.list_code_attempts() WHERE key LIKE 'client:%'),
          '3 0', 'the three client keys with wrong codes are kept hashed, never as given');
-- a window of one second, then wait for it to end
SET benefit.throttle_window = '1s';
SELECT pg_sleep(1.1) \gset
SET ROLE tap_sales;
SELECT is((SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box-office', NULL, NULL, 'k1')), 'ok',
          'once the window has passed, the client key is heard again');
RESET ROLE;
-- the counts of ended windows are purged; a count in its window stays
SELECT benefit_internal.record_code_failures(NULL, 'in-window', 2) \gset
SET ROLE tap_sales;
SELECT is(benefit.purge_code_attempts(), 4, 'purge_code_attempts forgets the four counts whose window has ended (sales may run it)');
RESET ROLE;
SELECT results_eq($$SELECT key, failures FROM benefit.list_code_attempts()$$, $$VALUES ('client:' || md5('in-window'), 2)$$,
                  'a count still in its window is kept');
SELECT is(benefit.forget_code_attempts(NULL, 'in-window'), 1, 'an operator makes the server forget a client key''s count');
SELECT is_empty($$SELECT * FROM benefit.list_code_attempts()$$, 'and it is gone');
RESET benefit.throttle_window;
RESET benefit.throttle_failures;
SET ROLE tap_sales;
SELECT throws_ok($$SET benefit.throttle_failures = 1000000$$, '42501', NULL, 'the sales role cannot loosen the throttle');
RESET ROLE;

-- past the throttle limit a right code is answered throttled too, by every path, and stays issued
-- (the counts live in shared memory, outside transactions: start from none again)
SELECT benefit.forget_code_attempts() >= 0 AS forgotten \gset
SET benefit.throttle_failures = 2;
SET ROLE tap_sales;
SELECT results_eq(
    $$SELECT (benefit.redeem_code('0000-0000-0000-0', pg_temp.id('Guesser'), 'g1')).reason::text
      UNION ALL
      SELECT (benefit.redeem_code('0000-0000-0000-0', pg_temp.id('Guesser'), 'g2')).reason::text
      UNION ALL
      SELECT (benefit.redeem_code(pg_temp.code(1)::benefit.code, pg_temp.id('Guesser'),
                                  'g3', 'web', 'shop')).reason::text
      UNION ALL
      SELECT e.reason::text FROM benefit.enter_code(pg_temp.code(1), 'web', 'shop',
                                                    pg_temp.id('Guesser')) e$$,
    $$VALUES ('unknown_code'), ('unknown_code'), ('throttled'), ('throttled')$$,
    'after two wrong codes a right one is answered throttled by redeem_code and enter_code');
SET ROLE tap_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code::text = pg_temp.code(1)), 'issued',
          'and the right code was not used');
RESET ROLE;
RESET benefit.throttle_failures;

SELECT * FROM finish();
ROLLBACK;
