-- tap_code_paths: one rule for "may this single-use code be used now", one
-- clock, one ledger.  Every entry point (enter_code, available, price_basket,
-- hold, hold_code, redeem_code, release_code; confirm after a change) answers
-- the same reason for the same situation, in the rule's order (invalidated,
-- already_used, held_by_other_order, benefit_not_live, not_yet_valid,
-- expired, wrong_channel, wrong_point_of_sale, quota_exhausted,
-- contact_quota_exhausted); a hold that has just expired is ignored, a code
-- held by the same order is that order's to use; redeem_code takes quota
-- units like a basket, so that benefit_usage (units) and code_dashboard
-- (codes) agree; several codes in one basket each cover units_per_code units;
-- every deadline and validity is judged by the clock at the call's start;
-- confirm keeps a hold's promise unless one of its codes was invalidated.
-- The fixture (test/fixtures/catalogue.sql and the benefits below) is the
-- DBA's (superuser), who also reads the ledger's own tables at the end; the
-- calls run as a login granted only benefit_sales, the usage views as one
-- granted only benefit_report, the operator's changes and the look into codes
-- as one granted only benefit_admin.
--
-- Benefits, all single-use on the box office and the web shop "shop",
-- cyrano at 8.00, 1 unit per code, 1000 units unless said:
--   live, soon (not yet valid), past (ended), draft, susp (suspended)
--   sold (1 unit in all), lim (1 per contact), full (2 in all, 1 per contact)
--   five (5 units in all, 8 codes), bsk, tko, duo, clk, chgs, chgc, inv
--   (10 units each), anyn (no units_per_code: one code covers any number),
--   cch (10 units, for an operator's change seen by the next call)
-- and gold (the gold indicator level: mouette at 10.00, 10 units) and the
-- promo code P10 (10 %), for the changes between hold and confirm.
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
SELECT plan(131);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'other-shop', 'Other shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, quota_per_contact, point_of_sale_id, units_per_code)
    SELECT v.c, v.c, season_id, 'single_use', v.q, v.qc, (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop'), v.u
      FROM benefit.season,
           (VALUES ('live', 1000, NULL, 1), ('soon', 1000, NULL, 1), ('past', 1000, NULL, 1), ('draft', 1000, NULL, 1),
                   ('susp', 1000, NULL, 1), ('sold', 1, NULL, 1), ('lim', 1000, 1, 1), ('full', 2, 1, 1),
                   ('five', 5, NULL, 1), ('bsk', 10, NULL, 1), ('tko', 10, NULL, 1), ('duo', 10, NULL, 1),
                   ('clk', 10, NULL, 1), ('chgs', 10, NULL, 1), ('chgc', 10, NULL, 1), ('inv', 10, NULL, 1),
                   ('anyn', 100, NULL, NULL), ('ord', 100, NULL, 1), ('cch', 10, NULL, 1)) v(c, q, qc, u);
UPDATE benefit.benefit SET quota_per_order = 2 WHERE code = 'ord';
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT b.benefit_id, c.channel_id FROM benefit.benefit b, benefit.sales_channel c WHERE c.code IN ('box-office', 'web');
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
    SELECT benefit_id, product_id, 800 FROM benefit.benefit, benefit.product WHERE product.code = 'cyrano';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, indicator_level_id, quota_total)
    SELECT 'gold', 'gold', season_id, 'indicator', true, (SELECT level_id FROM benefit.indicator_level), 10 FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
    SELECT benefit_id, product_id, 1000 FROM benefit.benefit, benefit.product WHERE benefit.code = 'gold' AND product.code = 'mouette';
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels, max_uses_total) VALUES ('P10', '10 %', 10, true, 100);
-- live first, then move the windows (a benefit whose validity has ended cannot go live)
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit WHERE code <> 'draft' ORDER BY benefit_id;
    PERFORM benefit.suspend(benefit_id) FROM benefit.benefit WHERE code = 'susp';
    PERFORM benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Alpina'),
                                   CASE code WHEN 'live' THEN 12 WHEN 'five' THEN 8 WHEN 'duo' THEN 8 WHEN 'bsk' THEN 8 ELSE 5 END, 'letter', 'fr')
       FROM benefit.benefit WHERE target_type = 'single_use' ORDER BY benefit_id;
END $$;
UPDATE benefit.benefit SET valid_from = '2999-01-01' WHERE code = 'soon';
UPDATE benefit.benefit SET valid_from = '2000-01-01', valid_until = '2001-01-01' WHERE code = 'past';
-- the codes of each benefit, in code order: pg_temp.c('live', 1) is the first code of live
INSERT INTO fixture_note
SELECT 'code', b.code || '-' || row_number() OVER (PARTITION BY b.code ORDER BY c.code), c.code::text
  FROM benefit.single_use_code c JOIN benefit.benefit b USING (benefit_id);
CREATE FUNCTION pg_temp.c(b text, n int) RETURNS text LANGUAGE sql STABLE AS $$ SELECT pg_temp.fx('code', b || '-' || n) $$;
-- a basket line of cyrano (or another product) at 20.00 for an adult, no performance
CREATE FUNCTION pg_temp.line(qty int, prod text DEFAULT 'cyrano') RETURNS benefit.basket_line LANGUAGE sql STABLE AS $$
    SELECT ROW(pg_temp.id('product', prod), NULL, NULL, pg_temp.id('audience', 'adult'), qty, 2000)::benefit.basket_line $$;
-- the calls, as a till makes them (anonymous buyer, web shop, a deadline 10 minutes ahead)
CREATE FUNCTION pg_temp.r(code text, ord text, contact bigint DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT (benefit.redeem_code(code::benefit.code, contact, ord, 'web', 'shop')).reason::text $$;
CREATE FUNCTION pg_temp.hc(code text, ord text) RETURNS text LANGUAGE sql AS $$
    SELECT benefit.hold_code(code::benefit.code, ord, now() + interval '10 minutes', 'web', 'shop')::text $$;
CREATE FUNCTION pg_temp.h(ord text, lines benefit.basket_line[], codes text[], contact bigint DEFAULT NULL,
                          promo text DEFAULT NULL, ch text DEFAULT 'web')
RETURNS benefit.priced_basket LANGUAGE sql AS $$
    SELECT benefit.hold(ord, lines, contact, ch, now() + interval '10 minutes', codes, promo, CASE ch WHEN 'web' THEN 'shop' END) $$;
CREATE FUNCTION pg_temp.p(lines benefit.basket_line[], codes text[], contact bigint DEFAULT NULL, promo text DEFAULT NULL,
                          ch text DEFAULT 'web')
RETURNS benefit.priced_basket LANGUAGE sql AS $$
    SELECT benefit.price_basket(lines, contact, ch, CASE ch WHEN 'web' THEN 'shop' END, NULL, codes, promo) $$;
CREATE FUNCTION pg_temp.e(code text) RETURNS text LANGUAGE sql AS $$
    SELECT e.reason::text FROM benefit.enter_code(code, 'web', 'shop') e $$;
-- of a priced basket: the refusals as "entered code or line: reason", sorted; the lines' benefits
CREATE FUNCTION pg_temp.refused(b benefit.priced_basket) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(coalesce(r.entered_code, 'line ' || r.line_no) || ': ' || r.reason, ', '
                               ORDER BY r.entered_code IS NULL, r.entered_code COLLATE "C", r.line_no, r.reason), '')
      FROM unnest(b.refusals) r $$;
CREATE FUNCTION pg_temp.benefits(b benefit.priced_basket) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(coalesce(l.benefit_code, '-'), ',' ORDER BY l.line_no) FROM unnest(b.lines) l $$;
-- what the DBA sees of one benefit: units held and used on its counters (benefit_usage), codes
-- held and used (code_dashboard), as a login granted only benefit_report reads them
CREATE FUNCTION pg_temp.usage(b text) RETURNS text LANGUAGE sql AS $$
    SELECT format('units held %s used %s, codes held %s used %s', u.held, u.used, d.codes_held, d.codes_used)
      FROM benefit.benefit_usage u JOIN benefit.code_dashboard d USING (benefit_id) WHERE u.code = b $$;
-- the state of one code and the order holding or using it (read as the admin login)
CREATE FUNCTION pg_temp.st(k text) RETURNS text LANGUAGE sql AS $$
    SELECT c.state || coalesce(' ' || c.hold_order, '') || coalesce(' ' || c.used_order, '')
      FROM benefit.single_use_code c WHERE c.code = k::benefit.code $$;

-- the situations: live 2 used, live 3 and past 2 invalidated, live 4 held by the codes order
-- other-codes, live 5 by the basket other-basket, live 6 and live 7 the same whose holds expire
-- in a second; sold's only unit used; Alice used her one lim unit; Alice and Bob full's two
DO $$
BEGIN
    PERFORM benefit.redeem_code(pg_temp.c('live', 2)::benefit.code, NULL, 'earlier-order');
    PERFORM benefit.invalidate_code(pg_temp.c('live', 3)::benefit.code, 'lost in the mail');
    PERFORM benefit.invalidate_code(pg_temp.c('past', 2)::benefit.code, 'withdrawn');
    PERFORM benefit.hold_code(pg_temp.c('live', 4)::benefit.code, 'other-codes', now() + interval '1 hour');
    PERFORM benefit.hold('other-basket', ARRAY[pg_temp.line(1)], NULL, 'web', now() + interval '1 hour',
                         ARRAY[pg_temp.c('live', 5)], NULL, 'shop');
    PERFORM benefit.hold_code(pg_temp.c('live', 6)::benefit.code, 'other-codes-short', clock_timestamp() + interval '1 second');
    PERFORM benefit.hold('other-basket-short', ARRAY[pg_temp.line(1)], NULL, 'web', clock_timestamp() + interval '1 second',
                         ARRAY[pg_temp.c('live', 7)], NULL, 'shop');
    PERFORM benefit.redeem_code(pg_temp.c('sold', 1)::benefit.code, NULL, 'sold-order');
    PERFORM benefit.redeem_code(pg_temp.c('lim', 1)::benefit.code, pg_temp.id('Alice'), 'lim-alice');
    PERFORM benefit.redeem_code(pg_temp.c('full', 1)::benefit.code, pg_temp.id('Alice'), 'full-alice');
    PERFORM benefit.redeem_code(pg_temp.c('full', 2)::benefit.code, pg_temp.id('Bob'), 'full-bob');
END $$;
-- the clock: holds whose deadline passes a second from now (a codes order and a basket)
SET ROLE tap_sales;
SELECT is(benefit.hold_code(pg_temp.c('clk', 1)::benefit.code, 'clk-codes-short', clock_timestamp() + interval '1 second', 'web', 'shop')::text,
          'ok', 'a code held for one second by the clock');
SELECT is((benefit.hold('clk-basket-short', ARRAY[pg_temp.line(1)], NULL, 'web', clock_timestamp() + interval '1 second',
                        ARRAY[pg_temp.c('clk', 2)], NULL, 'shop')).reason::text, 'ok', 'a basket held for one second by the clock');
RESET ROLE;
SELECT pg_sleep(1.2) \g /dev/null

CREATE TEMP TABLE situation (name text PRIMARY KEY, code text, channel text, pos text, contact text, expected text);
INSERT INTO situation VALUES
    ('a issued, on its web shop',                        pg_temp.c('live', 1), 'web', 'shop', NULL, 'ok'),
    ('b issued, at the box office',                      pg_temp.c('live', 1), 'box-office', NULL, NULL, 'ok'),
    ('c used',                                           pg_temp.c('live', 2), 'web', 'shop', NULL, 'already_used'),
    ('d used, on a wrong channel too',                   pg_temp.c('live', 2), 'call-centre', NULL, NULL, 'already_used'),
    ('e invalidated',                                    pg_temp.c('live', 3), 'web', 'shop', NULL, 'invalidated'),
    ('f invalidated, benefit expired too',               pg_temp.c('past', 2), 'web', 'shop', NULL, 'invalidated'),
    ('g held by another codes order',                    pg_temp.c('live', 4), 'web', 'shop', NULL, 'held_by_other_order'),
    ('h held by another basket',                         pg_temp.c('live', 5), 'web', 'shop', NULL, 'held_by_other_order'),
    ('i held by a codes order whose hold just expired',  pg_temp.c('live', 6), 'web', 'shop', NULL, 'ok'),
    ('j held by a basket whose hold just expired',       pg_temp.c('live', 7), 'web', 'shop', NULL, 'ok'),
    ('k benefit draft',                                  pg_temp.c('draft', 1), 'web', 'shop', NULL, 'benefit_not_live'),
    ('l benefit suspended',                              pg_temp.c('susp', 1), 'box-office', NULL, NULL, 'benefit_not_live'),
    ('m suspended, on a wrong channel too',              pg_temp.c('susp', 1), 'call-centre', NULL, NULL, 'benefit_not_live'),
    ('n benefit not yet valid',                          pg_temp.c('soon', 1), 'web', 'shop', NULL, 'not_yet_valid'),
    ('o benefit expired',                                pg_temp.c('past', 1), 'web', 'shop', NULL, 'expired'),
    ('p channel the benefit is not sold on',             pg_temp.c('live', 8), 'call-centre', NULL, NULL, 'wrong_channel'),
    ('q the web, another shop',                          pg_temp.c('live', 8), 'web', 'other-shop', NULL, 'wrong_point_of_sale'),
    ('r the web, no shop',                               pg_temp.c('live', 8), 'web', NULL, NULL, 'wrong_point_of_sale'),
    ('s benefit sold out',                               pg_temp.c('sold', 2), 'web', 'shop', NULL, 'quota_exhausted'),
    ('t sold out, at the box office',                    pg_temp.c('sold', 2), 'box-office', NULL, 'Carol', 'quota_exhausted'),
    ('u sold out, on a wrong channel too',               pg_temp.c('sold', 2), 'call-centre', NULL, NULL, 'wrong_channel'),
    ('v the contact''s own limit reached',               pg_temp.c('lim', 2), 'web', 'shop', 'Alice', 'contact_quota_exhausted'),
    ('w the same benefit, another contact',              pg_temp.c('lim', 2), 'web', 'shop', 'Bob', 'ok'),
    ('x sold out and the contact at her own limit',      pg_temp.c('full', 3), 'web', 'shop', 'Alice', 'quota_exhausted'),
    ('y never issued',                                   '0000-0000-0000-0', 'web', 'shop', NULL, 'unknown_code');

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
-- the benefit of a code, as the code's own text says (NULL for a code never issued)
CREATE FUNCTION pg_temp.benefit_of(code text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT split_part(f.name, '-', 1) FROM pg_temp.fixture f WHERE f.kind = 'code' AND f.value = code $$;
CREATE FUNCTION pg_temp.via_enter(code text, ch text, pos text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT e.reason::text FROM benefit.enter_code(code, ch, pos, pg_temp.id(who)) e $$;
CREATE FUNCTION pg_temp.via_available(code text, ch text, pos text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(a.reason::text, ',') FROM benefit.available(pg_temp.id(who), ch, NULL, ARRAY[code], pos) a
     WHERE a.entered_code = code $$;
-- a priced or held basket of one cyrano line with the code: the code's refusal, else the hold's
-- own refusal, else ok when the line is priced with the code's benefit
CREATE FUNCTION pg_temp.outcome(b benefit.priced_basket, code text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT string_agg(r.reason::text, ',') FROM unnest(b.refusals) r WHERE r.entered_code = code),
                    nullif(b.reason::text, 'ok'),
                    CASE WHEN (b.lines[1]).benefit_code = pg_temp.benefit_of(code) THEN 'ok' ELSE 'not applied, no reason' END) $$;
CREATE FUNCTION pg_temp.via_price(code text, ch text, pos text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.outcome(benefit.price_basket(ARRAY[pg_temp.line(1)], pg_temp.id(who), ch, pos, NULL, ARRAY[code]), code) $$;
CREATE FUNCTION pg_temp.via_hold(code text, ch text, pos text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format(
        'SELECT pg_temp.outcome(benefit.hold(%L, ARRAY[pg_temp.line(1)], pg_temp.id(%L), %L, now() + interval %L, ARRAY[%L], NULL, %L), %L)',
        'probe-order', who, ch, '1 hour', code, pos, code)) $$;
CREATE FUNCTION pg_temp.via_hold_code(code text, ch text, pos text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format('SELECT benefit.hold_code(%L::benefit.code, %L, now() + interval %L, %L, %L, pg_temp.id(%L))::text',
                                code, 'probe-order', '1 hour', ch, pos, who)) $$;
CREATE FUNCTION pg_temp.via_redeem(code text, ch text, pos text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format('SELECT (benefit.redeem_code(%L::benefit.code, pg_temp.id(%L), %L, %L, %L)).reason::text',
                                code, who, 'probe-order', ch, pos)) $$;
CREATE FUNCTION pg_temp.via_release_code(code text, who text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.probe(format('SELECT benefit.release_code(%L::benefit.code, %L, pg_temp.id(%L))::text', code, 'probe-order', who)) $$;
GRANT SELECT ON situation TO tap_sales;

-- each entry point: the situations where it answers otherwise than the rule (none), with its answer
CREATE FUNCTION pg_temp.differ(via text, expect text DEFAULT 'expected') RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT name, got, want FROM (SELECT name, %s AS got, %s AS want FROM situation) s
                    WHERE got IS DISTINCT FROM want ORDER BY name', via, expect) $$;
SET ROLE tap_sales;
SELECT is_empty(pg_temp.differ('pg_temp.via_enter(code, channel, pos, contact)'), 'enter_code answers every situation by the rule');
SELECT is_empty(pg_temp.differ('pg_temp.via_available(code, channel, pos, contact)'), 'available answers the same for the entered code');
SELECT is_empty(pg_temp.differ('pg_temp.via_price(code, channel, pos, contact)'),
                'price_basket (eligibility) answers the same (ok: the line is priced with the code''s benefit)');
SELECT is_empty(pg_temp.differ('pg_temp.via_hold(code, channel, pos, contact)'),
                'hold answers the same (ok: the basket is held with the code''s benefit)');
SELECT is_empty(pg_temp.differ('pg_temp.via_hold_code(code, channel, pos, contact)'), 'hold_code answers the same');
SELECT is_empty(pg_temp.differ('pg_temp.via_redeem(code, channel, pos, contact)'), 'redeem_code answers the same');
SELECT is_empty(pg_temp.differ('pg_temp.via_release_code(code, contact)',
                               $$CASE WHEN expected IN ('invalidated', 'already_used', 'held_by_other_order', 'unknown_code')
                                      THEN expected ELSE 'ok' END$$),
                'release_code answers the state part of the rule (ok when the code is not held by the order: nothing to give back)');
SELECT is(pg_temp.e(pg_temp.c('live', 6)), 'ok', 'a code whose hold just expired is free, before any expiry job ran');

-- sold out: the code stays issued and no ticket is issued with it
SELECT is(pg_temp.r(pg_temp.c('sold', 2), 'sold-try'), 'quota_exhausted', 'redeem_code of a sold-out benefit: quota_exhausted');
SELECT throws_ok(format($$SELECT benefit.record_ticket('T-sold', 'sold-try', %s, %L)$$, pg_temp.id('benefit', 'sold'), pg_temp.c('sold', 2)),
                 '55000', NULL, 'record_ticket issues no ticket with the code refused for the order');
SET ROLE tap_admin;
SELECT is(pg_temp.st(pg_temp.c('sold', 2)), 'issued', 'the refused code stays issued');
SELECT is((SELECT count(*) FROM benefit.ticket)::int, 0, 'no ticket was recorded');
SET ROLE tap_sales;

-- a code held by the same order is that order's
SELECT is(pg_temp.hc(pg_temp.c('live', 9), 'same-1'), 'ok', 'hold_code: a codes order same-1 holds a code');
SELECT is(pg_temp.hc(pg_temp.c('live', 9), 'same-1'), 'ok', 'hold_code by the same order again: ok (its deadline moves)');
SELECT is(pg_temp.r(pg_temp.c('live', 9), 'same-1'), 'ok', 'redeem_code by the holding order: ok');
SET ROLE tap_admin;
SELECT is(pg_temp.st(pg_temp.c('live', 9)), 'used same-1', 'the code is used by that order');
SET ROLE tap_sales;
SELECT is(pg_temp.hc(pg_temp.c('live', 10), 'same-2'), 'ok', 'a codes order same-2 holds a code');
SELECT is(benefit.release_code(pg_temp.c('live', 10)::benefit.code, 'same-2')::text, 'ok', 'release_code by the holding order: ok');
SELECT is(pg_temp.e(pg_temp.c('live', 10)), 'ok', 'the code is free again');
SET ROLE tap_admin;
SELECT is(pg_temp.st(pg_temp.c('live', 10)), 'issued', 'and issued');
SELECT is((SELECT state::text FROM benefit.order_hold WHERE order_ref = 'same-2'), 'released',
          'the codes order with no code left held is released');
SET ROLE tap_sales;
SELECT is(pg_temp.hc(pg_temp.c('live', 12), 'same-2'), 'ok', 'hold_code for the released codes order: started afresh');
SET ROLE tap_admin;
SELECT is((SELECT state::text FROM benefit.order_hold WHERE order_ref = 'same-2'), 'held', 'it is held again');
SET ROLE tap_sales;
SELECT is(pg_temp.hc(pg_temp.c('live', 11), 'same-3'), 'ok', 'a codes order same-3 holds a code');
SELECT is(pg_temp.hc(pg_temp.c('live', 11), 'other-3'), 'held_by_other_order', 'another order cannot hold it');
SELECT is(pg_temp.r(pg_temp.c('live', 11), 'other-3'), 'held_by_other_order', 'nor use it');
SELECT is(benefit.release_code(pg_temp.c('live', 11)::benefit.code, 'other-3')::text, 'held_by_other_order', 'nor release it');

-- quota 5, 8 codes through redeem_code: 5 used, then sold out; units and codes agree
CREATE FUNCTION pg_temp.redeem_all(b text, n int) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    res text[] := '{}';
BEGIN
    FOR i IN 1 .. n LOOP
        res := res || pg_temp.r(pg_temp.c(b, i), b || '-order-' || i);
    END LOOP;
    RETURN res;
END $$;
SELECT is(pg_temp.redeem_all('five', 8), ARRAY['ok', 'ok', 'ok', 'ok', 'ok', 'quota_exhausted', 'quota_exhausted', 'quota_exhausted'],
          'quota 5: eight codes through redeem_code, five used, then quota_exhausted');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'five'$$, $$VALUES (0, 5, 0)$$,
                  'benefit_usage: 5 units used, none left');
SELECT results_eq($$SELECT codes_used, codes_held, codes_left FROM benefit.code_dashboard WHERE benefit = 'five'$$,
                  $$VALUES (5::bigint, 0::bigint, 3::bigint)$$, 'code_dashboard: 5 codes used, 3 left: they agree');
SET ROLE tap_sales;
SELECT is(pg_temp.outcome(pg_temp.p(ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('five', 6)]), pg_temp.c('five', 6)), 'quota_exhausted',
          'the basket path sells no more');
SELECT is(pg_temp.e(pg_temp.c('five', 7)), 'quota_exhausted', 'enter_code says so too');
SELECT is(benefit.record_ticket('T-five-1', 'five-order-1', pg_temp.id('benefit', 'five'), pg_temp.c('five', 1)::benefit.code),
          'T-five-1', 'a code used by its order gets its ticket');
SELECT throws_ok(format($$SELECT benefit.record_ticket('T-five-6', 'five-order-6', %s, %L)$$, pg_temp.id('benefit', 'five'), pg_temp.c('five', 6)),
                 '55000', NULL, 'a code refused for quota_exhausted gets none');

-- a code held by basket A: used by confirm('A') only
SELECT is((pg_temp.h('A', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('bsk', 1)])).reason::text, 'ok', 'basket A holds a code');
SELECT is(pg_temp.r(pg_temp.c('bsk', 1), 'A'), 'order_already_held', 'redeem_code of that code for A: order_already_held');
SELECT is(pg_temp.hc(pg_temp.c('bsk', 1), 'A'), 'order_already_held', 'hold_code of it for A: order_already_held');
SELECT is(benefit.release_code(pg_temp.c('bsk', 1)::benefit.code, 'A')::text, 'order_already_held',
          'release_code of it for A: order_already_held (release the order instead)');
SELECT is(pg_temp.r(pg_temp.c('bsk', 1), 'B'), 'held_by_other_order', 'another order: held_by_other_order');
SET ROLE tap_report;
SELECT is(pg_temp.usage('bsk'), 'units held 1 used 0, codes held 1 used 0', 'one unit and one code held by A');
SET ROLE tap_sales;
SELECT is(benefit.confirm('A')::text, 'ok', 'confirm(A) afterwards: ok');
SET ROLE tap_admin;
SELECT is(pg_temp.st(pg_temp.c('bsk', 1)), 'used A', 'the code is used by A');
SET ROLE tap_report;
SELECT is(pg_temp.usage('bsk'), 'units held 0 used 1, codes held 0 used 1', 'one unit and one code used');
SET ROLE tap_sales;
SELECT is((pg_temp.h('B2', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('bsk', 2)])).reason::text, 'ok', 'basket B2 holds another code');
SELECT is(benefit.release('B2')::text, 'ok', 'release(B2)');
SET ROLE tap_report;
SELECT is(pg_temp.usage('bsk'), 'units held 0 used 1, codes held 0 used 1', 'the release gave the code and its unit back');
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('bsk', 2), 'B3'), 'ok', 'the code is used by another order');
SET ROLE tap_report;
SELECT is(pg_temp.usage('bsk'), 'units held 0 used 2, codes held 0 used 2', 'with its unit');

-- hold_code(C, X) then hold(X, codes => [C]): the basket takes the codes order over
SET ROLE tap_sales;
SELECT is(pg_temp.hc(pg_temp.c('tko', 1), 'X'), 'ok', 'hold_code of a code for X');
SET ROLE tap_report;
SELECT is(pg_temp.usage('tko'), 'units held 1 used 0, codes held 1 used 0', 'its unit is reserved');
SET ROLE tap_sales;
SELECT results_eq($$SELECT h.reason::text, pg_temp.benefits(h), pg_temp.refused(h)
                      FROM pg_temp.h('X', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('tko', 1)]) h$$,
                  $$VALUES ('ok', 'tko', '')$$, 'hold(X, codes => [C]) takes it over: ok, priced with the code, no refusal');
SET ROLE tap_report;
SELECT is(pg_temp.usage('tko'), 'units held 1 used 0, codes held 1 used 0', 'one code held, its unit reserved once');
RESET ROLE;
SELECT results_eq($$SELECT h.kind, (SELECT count(*) FROM benefit.order_code o WHERE o.order_ref = 'X')::int FROM benefit.order_hold h WHERE h.order_ref = 'X'$$,
                  $$VALUES ('basket', 1)$$, 'X is now a basket with one code');
SET ROLE tap_sales;
SELECT is((pg_temp.h('X', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('tko', 1)])).reason::text, 'order_already_held', 'a basket is held once');
SELECT is(benefit.confirm('X')::text, 'ok', 'confirm(X)');
SET ROLE tap_report;
SELECT is(pg_temp.usage('tko'), 'units held 0 used 1, codes held 0 used 1', 'one unit and one code used');
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('tko', 2), 'Z'), 'ok', 'redeem_code: a confirmed codes order Z');
SELECT is((pg_temp.h('Z', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('tko', 3)])).reason::text, 'order_already_held',
          'a confirmed codes order is not taken over by a basket');
SELECT is(pg_temp.hc(pg_temp.c('tko', 3), 'Z'), 'already_confirmed', 'nor does it hold a code');
SELECT is(pg_temp.r(pg_temp.c('tko', 3), 'Z'), 'ok', 'but redeem_code adds a second voucher to it, used at once');
SELECT is(pg_temp.hc(pg_temp.c('tko', 4), 'W'), 'ok', 'a codes order W holds a code');
SELECT is(pg_temp.r(pg_temp.c('tko', 5), 'W'), 'ok', 'redeem_code of another code for W: ok, the whole order confirmed');
SET ROLE tap_admin;
SELECT results_eq($$SELECT pg_temp.st(pg_temp.c('tko', i)) FROM generate_series(4, 5) i ORDER BY i$$,
                  $$VALUES ('used W'), ('used W')$$, 'both codes are used by W');
SET ROLE tap_report;
SELECT is(pg_temp.usage('tko'), 'units held 0 used 5, codes held 0 used 5', 'five units and five codes used');

-- several codes in one basket, one unit each
SET ROLE tap_sales;
SELECT results_eq($$SELECT h.reason::text, pg_temp.benefits(h), pg_temp.refused(h)
                      FROM pg_temp.h('M1', ARRAY[pg_temp.line(2)], ARRAY[pg_temp.c('duo', 1), pg_temp.c('duo', 2)]) h$$,
                  $$VALUES ('ok', 'duo', '')$$, 'a line of 2 units with 2 codes: both codes applied');
SET ROLE tap_report;
SELECT is(pg_temp.usage('duo'), 'units held 2 used 0, codes held 2 used 0', 'two units and two codes held');
SET ROLE tap_sales;
SELECT results_eq($$SELECT pg_temp.benefits(b),
                             EXISTS (SELECT 1 FROM unnest(b.refusals) r WHERE r.line_no = 1 AND r.reason = 'code_units_exhausted'),
                             (SELECT count(DISTINCT r.entered_code) FROM unnest(b.refusals) r
                               WHERE r.entered_code IN (pg_temp.c('duo', 3), pg_temp.c('duo', 4)))::int
                      FROM pg_temp.p(ARRAY[pg_temp.line(3)], ARRAY[pg_temp.c('duo', 3), pg_temp.c('duo', 4)]) b$$,
                  $$VALUES ('-', true, 2)$$,
                  'a line of 3 units with 2 codes: not priced with them, code_units_exhausted for the line, each code in the refusals');
-- the codes of a benefit are applied in code order: the last one is not needed
SELECT h.reason AS m2_reason, pg_temp.benefits(h) AS m2_benefits, pg_temp.refused(h) AS m2_refusals,
       coalesce((SELECT min(r.entered_code) FROM unnest(h.refusals) r), '-') AS m2_refused
  FROM pg_temp.h('M2', ARRAY[pg_temp.line(2)], ARRAY[pg_temp.c('duo', 3), pg_temp.c('duo', 4), pg_temp.c('duo', 5)]) h \gset
SELECT is(format('%s %s %s', :'m2_reason', :'m2_benefits', :'m2_refusals'), format('ok duo %s: code_not_needed', :'m2_refused'),
          'three codes for 2 units: held with two, one refused code_not_needed');
SELECT is(:'m2_refused', (SELECT max(k::text) FROM unnest(ARRAY[pg_temp.c('duo', 3), pg_temp.c('duo', 4), pg_temp.c('duo', 5)]) k),
          'the codes are applied in code order: the last one is the one not needed');
SET ROLE tap_admin;
SELECT results_eq(format($$SELECT k = %L, pg_temp.st(k) FROM unnest(ARRAY[pg_temp.c('duo', 3), pg_temp.c('duo', 4), pg_temp.c('duo', 5)]) k
                           ORDER BY 1, 2$$, :'m2_refused'),
                  $$VALUES (false, 'held M2'), (false, 'held M2'), (true, 'issued')$$,
                  'the code not needed is not held, the two others are');
SET ROLE tap_sales;
SELECT results_eq($$SELECT pg_temp.benefits(b), pg_temp.refused(b)
                      FROM pg_temp.p(ARRAY[pg_temp.line(1), pg_temp.line(1)], ARRAY[pg_temp.c('duo', 6), pg_temp.c('duo', 7)]) b$$,
                  $$VALUES ('duo,duo', '')$$, 'two lines of one unit, two codes: one each');

-- units_per_code NULL: one code covers any number of units
SELECT results_eq($$SELECT h.reason::text, pg_temp.benefits(h), pg_temp.refused(h)
                      FROM pg_temp.h('N1', ARRAY[pg_temp.line(5)], ARRAY[pg_temp.c('anyn', 1)]) h$$,
                  $$VALUES ('ok', 'anyn', '')$$, 'no units per code: one code for a line of 5 units');
SELECT is(benefit.confirm('N1')::text, 'ok', 'confirmed');
SELECT is(pg_temp.r(pg_temp.c('anyn', 2), 'N2'), 'ok', 'redeem_code of another code');
SET ROLE tap_report;
SELECT is(pg_temp.usage('anyn'), 'units held 0 used 6, codes held 0 used 2', 'five units and one for redeem_code, two codes');

-- the clock: the call's instant, not the transaction start (this transaction began seconds ago)
SET ROLE tap_sales;
SELECT throws_ok($$SELECT benefit.hold('clk-a', ARRAY[pg_temp.line(1)], NULL, 'web', now() + interval '1 second', ARRAY[pg_temp.c('clk', 3)], NULL, 'shop')$$,
                 '22023', NULL, 'hold with a deadline of now() + 1 s, already past by the clock: 22023');
SELECT is((benefit.hold('clk-b', ARRAY[pg_temp.line(1)], NULL, 'web', clock_timestamp() + interval '10 seconds',
                        ARRAY[pg_temp.c('clk', 3)], NULL, 'shop')).reason::text, 'ok', 'hold until clock_timestamp() + 10 s: ok');
SELECT throws_ok(format($$SELECT benefit.hold_code(%L, 'clk-c', now() + interval '1 second')$$, pg_temp.c('clk', 4)),
                 '22023', NULL, 'hold_code with a deadline of now() + 1 s: 22023');
SELECT is(benefit.hold_code(pg_temp.c('clk', 4)::benefit.code, 'clk-c', clock_timestamp() + interval '10 seconds')::text, 'ok',
          'hold_code until clock_timestamp() + 10 s: ok');
SELECT is(benefit.confirm('clk-basket-short')::text, 'hold_expired', 'confirm right after a basket''s deadline passed: hold_expired');
SELECT is(benefit.confirm('clk-codes-short')::text, 'hold_expired', 'confirm right after a codes order''s deadline passed: hold_expired');
SET ROLE tap_admin;
SELECT results_eq($$SELECT pg_temp.st(pg_temp.c('clk', i)) FROM generate_series(1, 2) i ORDER BY i$$,
                  $$VALUES ('issued'), ('issued')$$, 'their codes are given back');
SET ROLE tap_report;
SELECT is(pg_temp.usage('clk'), 'units held 2 used 0, codes held 2 used 0', 'and their units: only clk-b and clk-c hold some');

-- confirm after a change between hold and confirm: the hold is a promise until its deadline
SET ROLE tap_sales;
SELECT is((pg_temp.h('c6-susp', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('chgs', 1)])).reason::text, 'ok', 'a basket holds a chgs code');
SELECT is((pg_temp.h('c6-close', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('chgc', 1)])).reason::text, 'ok', 'a basket holds a chgc code');
SELECT is(pg_temp.benefits(pg_temp.h('c6-gold', ARRAY[pg_temp.line(1, 'mouette')], NULL, pg_temp.id('Bob'), NULL, 'box-office')), 'gold',
          'Bob holds mouette with his gold level');
SELECT is((pg_temp.h('c6-promo', ARRAY[pg_temp.line(1, 'mouette')], NULL, NULL, 'P10', 'box-office')).promo_code, 'P10',
          'a basket holds the promo code');
SELECT is((pg_temp.h('c6-inv', ARRAY[pg_temp.line(1)], ARRAY[pg_temp.c('inv', 1)])).reason::text, 'ok', 'a basket holds an inv code');
SET ROLE tap_admin;
SELECT benefit.suspend(pg_temp.id('benefit', 'chgs')) \g /dev/null
SELECT benefit.close(pg_temp.id('benefit', 'chgc')) \g /dev/null
DELETE FROM benefit.contact_indicator WHERE contact_id = pg_temp.id('Bob');
UPDATE benefit.promo_code SET is_active = false WHERE code = 'P10';
SELECT is(benefit.invalidate_code(pg_temp.c('inv', 1)::benefit.code, 'reported stolen')::text, 'ok', 'meanwhile an operator invalidates the inv code');
SET ROLE tap_sales;
SELECT results_eq($$SELECT pg_temp.e(pg_temp.c('chgs', 2)), pg_temp.e(pg_temp.c('chgc', 2)),
                           coalesce(pg_temp.benefits(pg_temp.p(ARRAY[pg_temp.line(1, 'mouette')], NULL, pg_temp.id('Bob'), NULL, 'box-office')), '-'),
                           (SELECT string_agg(r.reason::text, ',') FROM unnest((pg_temp.p(ARRAY[pg_temp.line(1, 'mouette')], NULL, NULL, 'P10', 'box-office')).refusals) r
                             WHERE r.line_no IS NULL AND r.benefit_id IS NULL)$$,
                  $$VALUES ('benefit_not_live', 'benefit_not_live', '-', 'promo_not_active')$$,
                  'new uses are refused: both benefits not live, Bob without his level, the promo code switched off');
SELECT is(benefit.confirm('c6-susp')::text, 'ok', 'confirm after the benefit was suspended: ok');
SELECT is(benefit.confirm('c6-close')::text, 'ok', 'confirm after the benefit was closed: ok');
SELECT is(benefit.confirm('c6-gold')::text, 'ok', 'confirm after the contact lost the indicator level: ok');
SELECT is(benefit.confirm('c6-promo')::text, 'ok', 'confirm after the promo code was switched off: ok');
SELECT is(benefit.confirm('c6-inv')::text, 'invalidated', 'confirm after a code was invalidated: invalidated');
SET ROLE tap_admin;
SELECT results_eq($$SELECT pg_temp.st(pg_temp.c(b, 1)) FROM unnest(ARRAY['chgs', 'chgc', 'inv']) b$$,
                  $$VALUES ('used c6-susp'), ('used c6-close'), ('invalidated')$$, 'the codes of the confirmed orders are used');
SELECT results_eq($$SELECT order_ref, state::text FROM benefit.order_hold WHERE order_ref LIKE 'c6-%' ORDER BY 1$$,
                  $$VALUES ('c6-close', 'confirmed'), ('c6-gold', 'confirmed'), ('c6-inv', 'held'), ('c6-promo', 'confirmed'), ('c6-susp', 'confirmed')$$,
                  'the order with the invalidated code is still held: nothing changed');
SET ROLE tap_report;
SELECT results_eq($$SELECT code, held, used FROM benefit.benefit_usage WHERE code IN ('chgs', 'chgc', 'gold', 'inv') ORDER BY code$$,
                  $$VALUES ('chgc', 0, 1), ('chgs', 0, 1), ('gold', 0, 1), ('inv', 1, 0)$$, 'the confirmed units are used, the refused one still held');
SELECT results_eq($$SELECT held, used FROM benefit.promo_usage WHERE code = 'P10'$$, $$VALUES (0, 1)$$, 'the promo use is used');
SET ROLE tap_sales;
SELECT is(benefit.release('c6-inv')::text, 'ok', 'the order with the invalidated code is released');
SET ROLE tap_report;
SELECT results_eq($$SELECT held, used FROM benefit.benefit_usage WHERE code = 'inv'$$, $$VALUES (0, 0)$$, 'its unit is given back');

-- the ledger: every benefit's counters equal the units its orders reserved (held) or used
-- (confirmed); with one unit per code, units and codes agree in benefit_usage and code_dashboard
RESET ROLE;
SELECT is_empty($$
    SELECT b.code, u.held, u.used, l.held, l.used
      FROM benefit.benefit b
      JOIN benefit.benefit_usage u USING (benefit_id)
      LEFT JOIN (SELECT c.owner_id,
                        sum(c.units) FILTER (WHERE h.state = 'held')::int AS held,
                        sum(c.units) FILTER (WHERE h.state = 'confirmed')::int AS used
                   FROM benefit.order_hold_counter c JOIN benefit.order_hold h USING (order_ref)
                  WHERE c.kind = 'benefit_slot' GROUP BY c.owner_id) l ON l.owner_id = b.benefit_id
     WHERE b.quota_total IS NOT NULL
       AND (u.held <> coalesce(l.held, 0) OR u.used <> coalesce(l.used, 0))$$,
    'every benefit''s counters equal its orders'' units in the ledger');
SELECT is_empty($$
    SELECT b.code FROM benefit.benefit b
      JOIN benefit.benefit_usage u USING (benefit_id)
      JOIN benefit.code_dashboard d USING (benefit_id)
     WHERE b.units_per_code = 1 AND b.status <> 'draft' AND (u.used <> d.codes_used)$$,
    'one unit per code: units used (benefit_usage) = codes used (code_dashboard) for every benefit');
SELECT is_empty($$
    SELECT c.code FROM benefit.single_use_code c
     WHERE c.state = 'used'
       AND NOT EXISTS (SELECT 1 FROM benefit.order_code o JOIN benefit.order_hold h USING (order_ref)
                        WHERE o.code = c.code AND h.order_ref = c.used_order AND h.state = 'confirmed')$$,
    'every used code is in a confirmed order');

-- found trying the ledger from a driver (review): every entry point answers like confirm
SET ROLE tap_sales;
SELECT is(pg_temp.hc(pg_temp.c('bsk', 6), 'rv-1'), 'ok', 'review: a codes order holds a code');
SELECT is(pg_temp.hc(pg_temp.c('bsk', 7), 'rv-1'), 'ok', 'review: and a second one');
SET ROLE tap_admin;
SELECT is(benefit.invalidate_code(pg_temp.c('bsk', 6)::benefit.code, 'lost')::text, 'ok', 'review: an operator invalidates the first');
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('bsk', 8), 'rv-1'), 'invalidated',
          'review: redeem_code into that held order refuses as confirm does (invalidated), nothing changes');
SET ROLE tap_admin;
SELECT results_eq($$SELECT pg_temp.st(k) FROM unnest(ARRAY[pg_temp.c('bsk', 7), pg_temp.c('bsk', 8)]) k$$,
                  $$VALUES ('held rv-1'), ('issued')$$, 'review: the held code stays held, the new one issued');
SET ROLE tap_sales;
SELECT is(benefit.release('rv-1')::text, 'ok', 'review: the order is released');
-- the per-order limit counts the units a codes order already has
SELECT is(pg_temp.r(pg_temp.c('ord', 1), 'rv-2'), 'ok', 'review: a first code into a codes order (benefit ord: per-order limit 2)');
SELECT is(pg_temp.r(pg_temp.c('ord', 2), 'rv-2'), 'ok', 'review: a second one');
SELECT is(pg_temp.r(pg_temp.c('ord', 3), 'rv-2'), 'quota_exhausted', 'review: a third one is over the per-order limit');
SELECT is(pg_temp.r(pg_temp.c('ord', 3), 'rv-3'), 'ok', 'review: in another order it is fine');
-- an existing order belongs to its buyer
SELECT is(pg_temp.r(pg_temp.c('ord', 4), 'rv-4', pg_temp.id('alice')), 'ok', 'review: an order of Alice');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L::benefit.code, %s, %L)', pg_temp.c('ord', 5),
                        pg_temp.id('bob'), 'rv-4'),
                 '22023', 'order "rv-4" is an order of another buyer', 'review: Bob cannot add a code to Alice''s order');
-- units sold count the codes orders; a refunded order is not confirmed again
SET ROLE tap_report;
SELECT is((SELECT units_sold FROM benefit.benefit_usage WHERE code = 'ord'), 4::bigint,
          'review: benefit_usage.units_sold counts the codes orders (4 codes of one unit)');
SET ROLE tap_sales;
SELECT is(benefit.refund('rv-3', 'rv-3-refund')::text, 'ok', 'review: a codes order refunded whole');
SELECT is(benefit.confirm('rv-3')::text, 'already_refunded', 'review: confirm of a refunded order says so');
SELECT is(benefit.release('rv-3')::text, 'already_refunded', 'review: and so does release');
SET ROLE tap_report;
SELECT results_eq($$SELECT units_sold, units_refunded FROM benefit.benefit_usage WHERE code = 'ord'$$,
                  $$VALUES (3::bigint, 1::bigint)$$, 'review: the refunded unit leaves units_sold for units_refunded');

-- redeem_code reads the benefit from the session's configuration cache: an operator's change is
-- seen by the next call, and forgotten with the (sub)transaction that made it
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('cch', 1), 'cch-1'), 'ok', 'cache: a code of cch is used (the session''s cache has cch live)');
SAVEPOINT operator_change;
SET ROLE tap_admin;
SELECT is(benefit.suspend((SELECT benefit_id FROM benefit.benefit WHERE code = 'cch'))::text, 'suspended', 'cache: an operator suspends cch');
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('cch', 2), 'cch-2'), 'benefit_not_live', 'cache: the next redeem_code sees it suspended');
ROLLBACK TO SAVEPOINT operator_change;
SELECT is(pg_temp.r(pg_temp.c('cch', 2), 'cch-2'), 'ok', 'cache: the suspension rolled back, the next call sees cch live again');
SET ROLE tap_admin;
DELETE FROM benefit.benefit_channel WHERE benefit_id = (SELECT benefit_id FROM benefit.benefit WHERE code = 'cch')
   AND channel_id = (SELECT channel_id FROM benefit.sales_channel WHERE code = 'box-office');
SET ROLE tap_sales;
SELECT is((benefit.redeem_code(pg_temp.c('cch', 3)::benefit.code, NULL, 'cch-3', 'box-office')).reason::text, 'wrong_channel',
          'cache: the box office removed from its channels, the next call there answers wrong_channel');
SET ROLE tap_admin;
UPDATE benefit.benefit SET valid_until = now() - interval '1 second' WHERE code = 'cch';
SET ROLE tap_sales;
SELECT is(pg_temp.r(pg_temp.c('cch', 3), 'cch-3'), 'expired',
          'cache: its validity ended, the next call answers expired');
SET ROLE tap_report;
SELECT is(pg_temp.usage('cch'), 'units held 0 used 2, codes held 0 used 2', 'cache: two units and two codes used, nothing else taken');
RESET ROLE;
SELECT is((SELECT count(*) FROM benefit.code_history WHERE order_ref = 'probe-order')::int, 0, 'the probes left nothing behind');

SELECT * FROM finish();
ROLLBACK;
