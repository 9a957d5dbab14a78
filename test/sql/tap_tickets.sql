-- tap_tickets: tickets and their scans, and the two code views.  A ticket
-- priced through a benefit is recorded once, with the code used for its
-- order if any; its first scan is recorded, a second one says so;
-- code_dashboard counts each organisation's codes by state and the tickets
-- issued and scanned, code_tracking follows one code.  The fixture is built
-- by the DBA (superuser) on the shared catalogue (test/fixtures/catalogue.sql):
-- a single-use benefit (ce) with 5 codes for each of the organisations Alpina
-- and Globex, a partner one (hotel), at the box office.  The code and ticket
-- calls run as a login granted only benefit_sales, the invalidation as one
-- granted only benefit_admin, the views as one granted only benefit_report.
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
SELECT plan(15);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, access_code)
    SELECT v.c, v.n, season_id, v.t::benefit.target_type, 500, v.a
      FROM benefit.season, (VALUES ('ce', 'Works council', 'single_use', NULL), ('hotel', 'Hotel guests', 'partner', 'HOTEL-LAC')) v(c, n, t, a);
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT benefit_id, channel_id FROM benefit.benefit, benefit.sales_channel WHERE sales_channel.code = 'box-office';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 50 FROM benefit.benefit, benefit.product WHERE product.code = 'cyrano';
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit ORDER BY benefit_id;
    PERFORM benefit.generate_codes((SELECT benefit_id FROM benefit.benefit WHERE code = 'ce'), contact_id, 5, 'letter', 'fr')
       FROM benefit.contact WHERE kind = 'organisation' ORDER BY contact_id;
END $$;
-- the codes each organisation handed out, in code order: pg_temp.c('Alpina', 1) is Alpina's first
INSERT INTO fixture_note
SELECT 'code', o.name || '-' || row_number() OVER (PARTITION BY o.name ORDER BY c.code), c.code::text
  FROM benefit.single_use_code c JOIN benefit.code_batch b USING (batch_id) JOIN benefit.contact o ON o.contact_id = b.contact_id;
CREATE FUNCTION pg_temp.c(org text, n int) RETURNS benefit.code LANGUAGE sql STABLE AS $$ SELECT pg_temp.fx('code', org || '-' || n)::benefit.code $$;

SET ROLE tap_sales;
-- tickets
SELECT is((benefit.redeem_code(pg_temp.c('Alpina', 1), pg_temp.id('Alice'), 'ORD-1', 'box-office')).reason::text, 'ok', 'a code is used for ORD-1');
SELECT is(benefit.record_ticket('T-1', 'ORD-1', pg_temp.id('benefit', 'ce'), pg_temp.c('Alpina', 1)), 'T-1', 'a ticket priced by the code');
SELECT is(benefit.record_ticket('T-2', 'ORD-1', pg_temp.id('benefit', 'ce'), pg_temp.c('Alpina', 1)), 'T-2', 'a second ticket with the same code');
SELECT is(benefit.record_ticket('T-3', 'ORD-9', pg_temp.id('benefit', 'hotel')), 'T-3', 'a ticket through a partner benefit, no code');
SELECT throws_ok($$SELECT benefit.record_ticket('T-1', 'ORD-1', pg_temp.id('benefit', 'ce'))$$, '23505', 'ticket "T-1" is already recorded', 'a ticket recorded twice');
SELECT throws_ok($$SELECT benefit.record_ticket('T-4', 'ORD-1', 999999)$$, 'P0002', 'benefit 999999 does not exist', 'an unknown benefit');
SELECT throws_ok($$SELECT benefit.record_ticket('T-4', 'ORD-1', pg_temp.id('benefit', 'ce'), '0000-0000-0000-0')$$,
                 'P0002', 'code "0000-0000-0000-0" does not exist', 'an unknown code');
SELECT throws_ok($$SELECT benefit.record_ticket('T-4', 'ORD-2', pg_temp.id('benefit', 'ce'), pg_temp.c('Alpina', 2))$$,
                 '55000', NULL, 'a code not used for that order');
SELECT is(benefit.ticket_scanned('T-1', '2026-10-01 19:55+02'), true, 'the first scan is recorded');
SELECT is(benefit.ticket_scanned('T-1'), false, 'a second scan says so and keeps the first time');
SELECT throws_ok($$SELECT benefit.ticket_scanned('NOT-A-TICKET')$$, 'P0002', 'ticket "NOT-A-TICKET" is not a ticket issued through a benefit', 'an unknown ticket');

-- the views
SET ROLE tap_admin;
SELECT is(benefit.invalidate_code(pg_temp.c('Alpina', 2), 'lost')::text, 'ok', 'one code of Alpina is invalidated');
SET ROLE tap_report;
SELECT results_eq($$SELECT organisation, benefit, batches, codes_generated, codes_used, codes_held, codes_invalidated, codes_left, tickets_issued, tickets_scanned
                      FROM benefit.code_dashboard ORDER BY organisation$$,
                  $$VALUES ('Alpina'::text, 'ce'::text, 1::bigint, 5::bigint, 1::bigint, 0::bigint, 1::bigint, 3::bigint, 2::bigint, 1::bigint),
                           ('Globex', 'ce', 1, 5, 0, 0, 0, 5, 0, 0)$$,
                  'the dashboard counts codes by state and the tickets issued and scanned');
SELECT results_eq($$SELECT state::text, used_by, used_order, tickets_issued, tickets_scanned FROM benefit.code_tracking WHERE code = pg_temp.c('Alpina', 1)$$,
                  $$VALUES ('used'::text, 'Alice'::text, 'ORD-1'::text, 2::bigint, 1::bigint)$$, 'tracking shows who used a code, for which order, and its tickets');
SELECT results_eq($$SELECT state::text, invalidated_reason FROM benefit.code_tracking WHERE code = pg_temp.c('Alpina', 2)$$,
                  $$VALUES ('invalidated'::text, 'lost'::text)$$, 'tracking shows invalidations and why');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
