-- tap_code_paths: every way a single-use code can be entered answers the same
-- reason for the same situation.  The rules of using a code are written in
-- more than one place (redeem_code in C, check_code_use behind hold_code and
-- enter_code, the eligibility statement behind available, price_basket and
-- hold): this file probes the six calls with one table of situations, state
-- before benefit, benefit before channel, channel before point of sale, and
-- fails on the first call that drifts.  Probes that would write are rolled
-- back.  The fixture is built by the DBA (superuser); the probes run as a
-- login granted only benefit_sales, the look into codes and history as one
-- granted only benefit_admin.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(9);

-- single-use benefits on the box office and the web shop "shop": live, not yet valid, expired,
-- draft, suspended
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s', 'A long season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind)
VALUES ('box', 'Box office', 'box_office'), ('web', 'Web', 'web'), ('phone', 'Phone', 'call_centre');
INSERT INTO benefit.point_of_sale (code, name, channel_id)
    SELECT v.c, v.c, channel_id FROM benefit.sales_channel, (VALUES ('shop'), ('other-shop')) v(c) WHERE code = 'web';
INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'p', 'P', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, point_of_sale_id)
    SELECT v.c, v.c, season_id, 'single_use', 1000, (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop')
      FROM benefit.season, (VALUES ('live'), ('soon'), ('past'), ('draft'), ('susp')) v(c);
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT benefit_id, channel_id FROM benefit.benefit, benefit.sales_channel WHERE sales_channel.code IN ('box', 'web');
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT benefit_id, product_id, 50 FROM benefit.benefit, benefit.product;
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit WHERE code <> 'draft' ORDER BY benefit_id;
    PERFORM benefit.suspend(benefit_id) FROM benefit.benefit WHERE code = 'susp';
END $$;
UPDATE benefit.benefit SET valid_from = '2999-01-01' WHERE code = 'soon';
UPDATE benefit.benefit SET valid_from = '2000-01-01', valid_until = '2001-01-01' WHERE code = 'past';
INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Acme', 'ce@acme.example');
DO $$
BEGIN
    PERFORM benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact), 5, 'letter', 'fr')
       FROM benefit.benefit ORDER BY benefit_id;
END $$;
-- the n-th code of a benefit, as text (a fixture lookup: it runs as the DBA who built the
-- fixture, SECURITY DEFINER, since the sales login cannot list codes; it is not what is tested)
CREATE FUNCTION pg_temp.c(b text, n int) RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
    SELECT c.code::text FROM benefit.single_use_code c JOIN benefit.benefit USING (benefit_id)
     WHERE benefit.code = b ORDER BY c.code OFFSET n - 1 LIMIT 1 $$;
-- the situations: live 2 used, live 3 invalidated, live 4 held by another order, past 2 invalidated
DO $$
BEGIN
    PERFORM benefit.redeem_code(pg_temp.c('live', 2)::benefit.code, NULL, 'earlier-order');
    PERFORM benefit.invalidate_code(pg_temp.c('live', 3)::benefit.code, 'lost in the mail');
    PERFORM benefit.hold_code(pg_temp.c('live', 4)::benefit.code, 'other-order', now() + interval '1 hour');
    PERFORM benefit.invalidate_code(pg_temp.c('past', 2)::benefit.code, 'withdrawn');
END $$;

CREATE TEMP TABLE situation (name text PRIMARY KEY, code text, channel text, pos text, expected text);
INSERT INTO situation VALUES
    ('a issued, on its web shop',              pg_temp.c('live', 1), 'web',   'shop',       'ok'),
    ('b issued, at the box office',            pg_temp.c('live', 1), 'box',   NULL,         'ok'),
    ('c used',                                 pg_temp.c('live', 2), 'web',   'shop',       'already_used'),
    ('d used, on a wrong channel too',         pg_temp.c('live', 2), 'phone', NULL,         'already_used'),
    ('e invalidated',                          pg_temp.c('live', 3), 'web',   'shop',       'invalidated'),
    ('f held by another order',                pg_temp.c('live', 4), 'web',   'shop',       'held_by_other_order'),
    ('g benefit not yet valid',                pg_temp.c('soon', 1), 'web',   'shop',       'not_yet_valid'),
    ('h benefit expired',                      pg_temp.c('past', 1), 'web',   'shop',       'expired'),
    ('i invalidated, benefit expired too',     pg_temp.c('past', 2), 'web',   'shop',       'invalidated'),
    ('j benefit draft',                        pg_temp.c('draft', 1), 'web',  'shop',       'benefit_not_live'),
    ('k benefit suspended',                    pg_temp.c('susp', 1), 'box',   NULL,         'benefit_not_live'),
    ('l suspended, on a wrong channel too',    pg_temp.c('susp', 1), 'phone', NULL,         'benefit_not_live'),
    ('m channel the benefit is not sold on',   pg_temp.c('live', 5), 'phone', NULL,         'wrong_channel'),
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
           FROM benefit.hold(%L, ARRAY[ROW((SELECT product_id FROM benefit.catalogue_product), NULL, NULL, NULL, 1, 2000)::benefit.basket_line],
                             NULL, %L, now() + interval %L, ARRAY[%L], NULL, %L) h',
        ',', code, 'ok', 'probe-order', ch, '1 hour', code, pos)) $$;
CREATE FUNCTION pg_temp.via_price(code text, ch text, pos text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT string_agg(r.reason::text, ',') FROM unnest(b.refusals) r WHERE r.entered_code = code),
                    CASE WHEN (b.lines[1]).benefit_code IS NOT NULL THEN 'ok' END)
      FROM benefit.price_basket(ARRAY[ROW((SELECT product_id FROM benefit.catalogue_product), NULL, NULL, NULL, 1, 2000)::benefit.basket_line],
                                NULL, ch, pos, NULL, ARRAY[code]) b $$;
CREATE ROLE tap_cp_sales LOGIN IN ROLE benefit_sales;
CREATE ROLE tap_cp_admin LOGIN IN ROLE benefit_admin;
GRANT SELECT ON situation TO tap_cp_sales;

SET ROLE tap_cp_sales;
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
SET ROLE tap_cp_admin;
SELECT is((SELECT count(*) FROM benefit.code_history WHERE order_ref = 'probe-order')::int, 0,
          'the probes left nothing behind');

-- past the throttle limit a right code is answered throttled too, by every path, and stays issued
RESET ROLE;
-- (the counts live in shared memory, outside transactions: start from none)
SELECT benefit.forget_code_attempts() >= 0 AS forgotten \gset
INSERT INTO benefit.contact (kind, name) VALUES ('person', 'Guesser');
CREATE FUNCTION pg_temp.guesser() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$
    SELECT contact_id FROM benefit.contact WHERE name = 'Guesser' $$;
SET benefit.throttle_failures = 2;
SET ROLE tap_cp_sales;
SELECT results_eq(
    $$SELECT (benefit.redeem_code('0000-0000-0000-0', pg_temp.guesser(), 'g1')).reason::text
      UNION ALL
      SELECT (benefit.redeem_code('0000-0000-0000-0', pg_temp.guesser(), 'g2')).reason::text
      UNION ALL
      SELECT (benefit.redeem_code(pg_temp.c('live', 1)::benefit.code, pg_temp.guesser(),
                                  'g3', 'web', 'shop')).reason::text
      UNION ALL
      SELECT e.reason::text FROM benefit.enter_code(pg_temp.c('live', 1), 'web', 'shop',
                                                    pg_temp.guesser()) e$$,
    $$VALUES ('unknown_code'), ('unknown_code'), ('throttled'), ('throttled')$$,
    'after two wrong codes a right one is answered throttled by redeem_code and enter_code');
SET ROLE tap_cp_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code::text = pg_temp.c('live', 1)), 'issued',
          'and the right code was not used');
RESET ROLE;
RESET benefit.throttle_failures;

SELECT * FROM finish();
ROLLBACK;
