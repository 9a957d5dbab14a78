-- tap_tickets: the "Code avantage" entry point, tickets and their scans,
-- and the two code views (tracking and dashboard).  The fixture is built by
-- the DBA (superuser); the code and ticket calls run as a login granted only
-- benefit_sales, the invalidation and the look into codes as one granted only
-- benefit_admin, the views as one granted only benefit_report.
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
SELECT plan(26);

INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('all', 'A long season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office'), ('phone', 'Phone', 'call_centre');
INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'p', 'P', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, access_code)
    SELECT v.c, v.n, season_id, v.t::benefit.target_type, 500, v.a
      FROM benefit.season, (VALUES ('ce', 'Works council', 'single_use', NULL), ('hotel', 'Hotel guests', 'partner', 'HOTEL-LAC'),
                                   ('spa', 'Spa guests', 'partner', 'SPA-2026')) v(c, n, t, a);
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT benefit_id, channel_id FROM benefit.benefit, benefit.sales_channel WHERE benefit.sales_channel.code = 'box';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT benefit_id, product_id, 50 FROM benefit.benefit, benefit.product;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code IN ('ce', 'hotel') \g /dev/null
INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Acme', 'ce@acme.example'), ('organisation', 'Globex', 'hr@globex.example'), ('person', 'Ada', 'ada@example.org');
SELECT benefit.generate_codes((SELECT benefit_id FROM benefit.benefit WHERE code = 'ce'), contact_id, 5, 'letter', 'fr')
  FROM benefit.contact WHERE kind = 'organisation' ORDER BY contact_id \g /dev/null
-- fixture lookups: they run as the DBA who built the fixture (SECURITY DEFINER), since the
-- logins under test cannot read these tables; the lookups are not what is tested
CREATE FUNCTION pg_temp.bid(c text) RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$ SELECT benefit_id FROM benefit.benefit WHERE code = c $$;
CREATE FUNCTION pg_temp.cid(n text) RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$ SELECT contact_id FROM benefit.contact WHERE name = n $$;
CREATE FUNCTION pg_temp.c(org text, n int) RETURNS benefit.code LANGUAGE sql SECURITY DEFINER AS $$
    SELECT c.code FROM benefit.single_use_code c JOIN benefit.code_batch b USING (batch_id) JOIN benefit.contact o ON o.contact_id = b.contact_id
     WHERE o.name = org ORDER BY c.code OFFSET n - 1 LIMIT 1 $$;
CREATE FUNCTION pg_temp.e(t text, ch text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT kind || ' ' || reason || coalesce(' ' || benefit_code, '') FROM benefit.enter_code(t, ch) $$;

CREATE ROLE tap_tk_sales LOGIN IN ROLE benefit_sales;
CREATE ROLE tap_tk_admin LOGIN IN ROLE benefit_admin;
CREATE ROLE tap_tk_report LOGIN IN ROLE benefit_report;

SET ROLE tap_tk_sales;
-- the "Code avantage" box tells which kind of code was typed and what it unlocks
SELECT is(pg_temp.e(pg_temp.c('Acme', 1)::text), 'single_use ok ce', 'a single-use code, as printed');
SELECT is(pg_temp.e(lower(replace(pg_temp.c('Acme', 1)::text, '-', ' '))), 'single_use ok ce', 'typed in lower case with spaces');
SELECT is(pg_temp.e('hotel-lac'), 'partner ok hotel', 'a partner access code, any case');
SELECT is(pg_temp.e('HOTEL-LAC', 'phone'), 'partner wrong_channel hotel', 'a partner code on a channel it is not sold on');
SELECT is(pg_temp.e('SPA-2026'), 'partner benefit_not_live spa', 'a partner code of a benefit that is not live');
SELECT is(pg_temp.e('NOPE-NOPE'), 'unknown unknown_code', 'anything else: unknown_code, no error');
SELECT is(pg_temp.e('0000-0000-0000-0'), 'single_use unknown_code', 'a well-formed code never issued');
SELECT is(pg_temp.e(''), 'unknown unknown_code', 'an empty box');
SELECT is(pg_temp.e(NULL), 'unknown unknown_code', 'NULL');
SELECT is(pg_temp.e(repeat('x', 100000)), 'unknown unknown_code', 'a huge text');
SET ROLE tap_tk_admin;
SELECT is((SELECT state::text FROM benefit.single_use_code WHERE code = pg_temp.c('Acme', 1)), 'issued', 'entering a code uses nothing');
SET ROLE tap_tk_sales;

-- tickets
SELECT is((benefit.redeem_code(pg_temp.c('Acme', 1), pg_temp.cid('Ada'), 'ORD-1', 'box')).reason::text, 'ok', 'a code is used for ORD-1');
SELECT is(benefit.record_ticket('T-1', 'ORD-1', pg_temp.bid('ce'), pg_temp.c('Acme', 1)), 'T-1', 'a ticket priced by the code');
SELECT is(benefit.record_ticket('T-2', 'ORD-1', pg_temp.bid('ce'), pg_temp.c('Acme', 1)), 'T-2', 'a second ticket with the same code');
SELECT is(benefit.record_ticket('T-3', 'ORD-9', pg_temp.bid('hotel')), 'T-3', 'a ticket through a partner benefit, no code');
SELECT throws_ok($$SELECT benefit.record_ticket('T-1', 'ORD-1', pg_temp.bid('ce'))$$, '23505', 'ticket "T-1" is already recorded', 'a ticket recorded twice');
SELECT throws_ok($$SELECT benefit.record_ticket('T-4', 'ORD-1', 999999)$$, 'P0002', 'benefit 999999 does not exist', 'an unknown benefit');
SELECT throws_ok($$SELECT benefit.record_ticket('T-4', 'ORD-1', pg_temp.bid('ce'), '0000-0000-0000-0')$$,
                 'P0002', 'code 0000-0000-0000-0 does not exist', 'an unknown code');
SELECT throws_ok($$SELECT benefit.record_ticket('T-4', 'ORD-2', pg_temp.bid('ce'), pg_temp.c('Acme', 2))$$,
                 '55000', NULL, 'a code not used for that order');
SELECT is(benefit.ticket_scanned('T-1', '2026-10-01 19:55+02'), true, 'the first scan is recorded');
SELECT is(benefit.ticket_scanned('T-1'), false, 'a second scan says so and keeps the first time');
SELECT throws_ok($$SELECT benefit.ticket_scanned('NOT-A-TICKET')$$, 'P0002', 'ticket "NOT-A-TICKET" is not a ticket issued through a benefit', 'an unknown ticket');

-- the views
SET ROLE tap_tk_admin;
SELECT is(benefit.invalidate_code(pg_temp.c('Acme', 2), 'lost')::text, 'ok', 'one code of Acme is invalidated');
SET ROLE tap_tk_report;
SELECT results_eq($$SELECT organisation, benefit, batches, codes_generated, codes_used, codes_held, codes_invalidated, codes_left, tickets_issued, tickets_scanned
                      FROM benefit.code_dashboard ORDER BY organisation$$,
                  $$VALUES ('Acme'::text, 'ce'::text, 1::bigint, 5::bigint, 1::bigint, 0::bigint, 1::bigint, 3::bigint, 2::bigint, 1::bigint),
                           ('Globex', 'ce', 1, 5, 0, 0, 0, 5, 0, 0)$$,
                  'the dashboard counts codes by state and the tickets issued and scanned');
SELECT results_eq($$SELECT state::text, used_by, used_order, tickets_issued, tickets_scanned FROM benefit.code_tracking WHERE code = pg_temp.c('Acme', 1)$$,
                  $$VALUES ('used'::text, 'Ada'::text, 'ORD-1'::text, 2::bigint, 1::bigint)$$, 'tracking shows who used a code, for which order, and its tickets');
SELECT results_eq($$SELECT state::text, invalidated_reason FROM benefit.code_tracking WHERE code = pg_temp.c('Acme', 2)$$,
                  $$VALUES ('invalidated'::text, 'lost'::text)$$, 'tracking shows invalidations and why');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
