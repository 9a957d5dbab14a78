-- tap_hostile: hostile use of the runtime.  A role granted only benefit_sales
-- sells but cannot read or list codes, batches, contacts, holds, counters or
-- history, nor call the internal helpers that write counters; benefit_report
-- reads the usage views only.  A hostile schema placed first in the caller's
-- search_path (functions and an operator shadowing the ones the runtime uses)
-- is never called: every SECURITY DEFINER function pins its search_path.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(38);

INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s', 'Season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office');
INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'p', 'P', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, access_code)
    SELECT v.c, v.c, season_id, v.t::benefit.target_type, true, 10, v.a
      FROM benefit.season, (VALUES ('pub', 'public', NULL), ('partner', 'partner', 'PARTNER1')) v(c, t, a);
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT benefit_id, product_id, 10 FROM benefit.benefit, benefit.product;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit \g /dev/null
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels) VALUES ('PROMO', 'Promo', 10, true);
SELECT ARRAY[ROW(product_id, NULL, NULL, NULL, 1, 2000)::benefit.basket_line]::text AS basket FROM benefit.product \gset

-- a hostile schema: functions and an operator with the names the runtime uses, recording every call
CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT INSERT, SELECT ON evil.calls TO PUBLIC;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('lower') RETURNING 'x' $$;
CREATE FUNCTION evil.btrim(text) RETURNS text LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('btrim') RETURNING 'x' $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('now') RETURNING '2000-01-01'::timestamptz $$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('unnest') RETURNING NULL $$;
CREATE FUNCTION evil.int8eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('=') RETURNING true $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8eq);
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC;

CREATE ROLE tap_h_sales LOGIN IN ROLE benefit_sales;
CREATE ROLE tap_h_report LOGIN IN ROLE benefit_report;
CREATE ROLE tap_h_nobody LOGIN;

-- the sales role sells, with the hostile schema first in its search_path
SET ROLE tap_h_sales;
SET search_path = evil, pg_catalog, public, benefit;   -- pg_catalog after evil: evil shadows it
-- the calls first (their answers kept in a temp table), the assertions once the path is reset:
-- pgTAP's own functions, which do not pin their path, would call the hostile operator
CREATE TEMP TABLE answers AS
SELECT 1 AS n, (SELECT count(*) FROM benefit.available(NULL, 'box', NULL, ARRAY['partner1']))::text AS v
UNION ALL
SELECT 2, (benefit.price_basket(:'basket'::benefit.basket_line[], NULL, 'box', NULL, NULL, ARRAY[' partner1 '], ' promo ')).total_cents::text
UNION ALL
SELECT 3, (benefit.hold('h1', :'basket'::benefit.basket_line[], NULL, 'box', pg_catalog.now() + interval '1 hour',
                        ARRAY['PARTNER1'], 'PROMO')).reason::text;
INSERT INTO answers SELECT 4, benefit.confirm('h1')::text;
INSERT INTO answers SELECT 5, benefit.expire_holds()::text;
RESET search_path;
SELECT is((SELECT v FROM answers WHERE n = 1), '2', 'sales: available works with a hostile search_path');
SELECT is((SELECT v FROM answers WHERE n = 2), '1620', 'sales: price_basket gives the right total (10 % off 20.00, then the promo''s 10 %)');
SELECT is((SELECT v FROM answers WHERE n = 3), 'ok', 'sales: hold works');
SELECT is((SELECT v FROM answers WHERE n = 4), 'ok', 'sales: confirm works');
SELECT is((SELECT v FROM answers WHERE n = 5), '0', 'sales: expire_holds works');
SELECT is((SELECT string_agg(what, ',') FROM evil.calls), NULL, 'not one call reached the hostile schema');
SELECT throws_ok($$SELECT * FROM benefit.counter$$, '42501', NULL, 'sales cannot read the counters');
SELECT throws_ok($$SELECT * FROM benefit.order_hold$$, '42501', NULL, 'sales cannot read the holds');
SELECT throws_ok($$SELECT * FROM benefit.order_line$$, '42501', NULL, 'sales cannot read the order lines');
SELECT throws_ok($$SELECT * FROM benefit.single_use_code$$, '42501', NULL, 'sales cannot list codes');
SELECT throws_ok($$SELECT * FROM benefit.code_batch$$, '42501', NULL, 'sales cannot list batches');
SELECT throws_ok($$SELECT * FROM benefit.contact$$, '42501', NULL, 'sales cannot list contacts');
SELECT throws_ok($$SELECT * FROM benefit.code_history$$, '42501', NULL, 'sales cannot read the code history');
SELECT throws_ok($$SELECT benefit.take_slots('h1', 'benefit_slot', 1, 1)$$, '42501', NULL,
                 'sales cannot call the internal helper that writes counters');
SELECT throws_ok($$SELECT benefit.settle(ARRAY['h1'], false)$$, '42501', NULL, 'sales cannot give units back by hand');
SELECT throws_ok($$SELECT * FROM benefit.benefit_usage$$, '42501', NULL, 'sales cannot read the reporting views');
RESET ROLE;

-- throttling: 3 wrong codes from one client key (or one contact) in the window, then throttled;
-- the counts live in shared memory, outside transactions: start from none
SELECT benefit.forget_code_attempts() >= 0 AS forgotten \gset
INSERT INTO benefit.contact (kind, name) VALUES ('person', 'Guesser');
SELECT contact_id AS guesser FROM benefit.contact WHERE name = 'Guesser' \gset
-- a well-formed code for 12 data characters: the one check character that makes it valid
CREATE FUNCTION pg_temp.valid_code(data text) RETURNS text LANGUAGE sql AS $$
    SELECT data || c FROM regexp_split_to_table('0123456789ABCDEFGHJKMNPQRSTVWXYZ', '') c
     WHERE benefit.is_valid_code(data || c) LIMIT 1 $$;
-- the setting is the superuser's; the calls are the sales login's
SET benefit.throttle_failures = 3;
SET ROLE tap_h_sales;
SELECT results_eq($$SELECT reason::text FROM benefit.enter_code('NOPE-1', 'box', NULL, NULL, 'k1')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('0000-0000-0000-0', 'box', NULL, NULL, 'k1')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('O0O0-XXXX', 'box', NULL, NULL, 'k1')$$,
                  $$VALUES ('unknown_code'), ('unknown_code'), ('unknown_code')$$,
                  'three wrong codes (unknown, unknown well-formed, malformed) are answered as such');
SELECT is((SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box', NULL, NULL, 'k1')), 'throttled',
          'then even a right code is answered throttled for that client key');
SELECT is((SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box', NULL, NULL, 'k2')), 'ok',
          'another client key is not throttled');
SELECT is((SELECT entered_code || ':' || reason FROM unnest((benefit.price_basket(:'basket'::benefit.basket_line[], NULL, 'box',
                                                              NULL, NULL, ARRAY['PARTNER1'], NULL, 'k1')).refusals)
            WHERE reason = 'throttled'), 'PARTNER1:throttled', 'price_basket does not look at the codes of a throttled client key');
SELECT is((SELECT reason::text FROM benefit.available(NULL, 'box', NULL, ARRAY['PARTNER1'], NULL, 'k1') WHERE entered_code IS NOT NULL),
          'throttled', 'nor does available');
SELECT results_eq($$SELECT reason::text FROM benefit.enter_code('NOPE-2', 'box', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('NOPE-3', 'box', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('NOPE-4', 'box', NULL, NULL, 'k3')
                    UNION ALL SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box', NULL, NULL, 'k3')$$,
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
                        (SELECT benefit_id FROM benefit.available(NULL, 'box') LIMIT 1), pg_temp.valid_code('0000-0000-0004-'), :guesser),
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
SET ROLE tap_h_sales;
SELECT is((SELECT reason::text FROM benefit.enter_code('PARTNER1', 'box', NULL, NULL, 'k1')), 'ok',
          'once the window has passed, the client key is heard again');
RESET ROLE;
-- the counts of ended windows are purged; a count in its window stays
SELECT benefit.record_code_failures(NULL, 'in-window', 2) \gset
SET ROLE tap_h_sales;
SELECT is(benefit.purge_code_attempts(), 4, 'purge_code_attempts forgets the four counts whose window has ended (sales may run it)');
RESET ROLE;
SELECT results_eq($$SELECT key, failures FROM benefit.list_code_attempts()$$, $$VALUES ('client:' || md5('in-window'), 2)$$,
                  'a count still in its window is kept');
SELECT is(benefit.forget_code_attempts(NULL, 'in-window'), 1, 'an operator makes the server forget a client key''s count');
SELECT is_empty($$SELECT * FROM benefit.list_code_attempts()$$, 'and it is gone');
RESET benefit.throttle_window;
RESET benefit.throttle_failures;
SET ROLE tap_h_sales;
SELECT throws_ok($$SET benefit.throttle_failures = 1000000$$, '42501', NULL, 'the sales role cannot loosen the throttle');
RESET ROLE;

-- the report role reads the usage views only
SET ROLE tap_h_report;
SELECT is((SELECT used FROM benefit.benefit_usage WHERE code = 'pub'), 1, 'report reads benefit_usage');
SELECT is((SELECT used FROM benefit.promo_usage WHERE code = 'PROMO'), 1, 'report reads promo_usage');
SELECT throws_ok($$SELECT * FROM benefit.order_hold$$, '42501', NULL, 'report cannot read the holds');
SELECT throws_ok($$SELECT benefit.hold('h2', NULL, NULL, 'box', now())$$, '42501', NULL, 'report cannot hold');
RESET ROLE;

-- a role with no benefit role gets nothing
SET ROLE tap_h_nobody;
SELECT throws_ok($$SELECT benefit.price_basket('{}'::jsonb)$$, '42501', NULL, 'a role without a benefit role cannot even price');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
