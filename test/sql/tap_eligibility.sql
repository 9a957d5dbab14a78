-- tap_eligibility: who may use what.  benefit.available lists the benefits a
-- buyer may be offered on a channel (and web point of sale) at a time, with
-- the codes entered: public ones for everyone, campaign and indicator ones
-- for the contacts they target (read now), partner and single-use ones for
-- their codes, each inside its validity window, with the units this buyer
-- may still take; benefit.contacts_with_benefits screens a list of contacts.
-- The fixture (test/fixtures/offers.sql) is built by the DBA (superuser); the
-- calls run as a login granted only benefit_sales.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(10);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

SET ROLE tap_sales;
SELECT results_eq($$SELECT benefit_code FROM benefit.available(NULL, 'box-office') ORDER BY 1$$,
                  $$VALUES ('pub'), ('tie-a'), ('tie-b')$$, 'an anonymous buyer sees the public benefits only');
SELECT results_eq($$SELECT benefit_code FROM benefit.available(pg_temp.id('Alice'), 'box-office') ORDER BY 1$$,
                  $$VALUES ('camp'), ('pub'), ('tie-a'), ('tie-b')$$, 'a contact on the campaign''s target list sees its benefit');
SELECT results_eq($$SELECT contact_id, benefits FROM benefit.contacts_with_benefits(
                      ARRAY[pg_temp.id('Alice'), pg_temp.id('Bob'), pg_temp.id('Carol'), NULL, 999999], 'box-office')$$,
                  $$VALUES (pg_temp.id('Alice'), 1), (pg_temp.id('Bob'), 1)$$,
                  'contacts_with_benefits: of a screen of contacts, those with a personal benefit');
SELECT is((SELECT count(*)::int FROM benefit.available(pg_temp.id('Carol'), 'box-office') WHERE benefit_code = 'gold'), 0,
          'a contact without the indicator level does not see the indicator benefit');
RESET ROLE;
INSERT INTO benefit.contact_indicator (contact_id, indicator_id, level_id)
    SELECT pg_temp.id('Carol'), indicator_id, level_id FROM benefit.indicator_level;
SET ROLE tap_sales;
SELECT is((SELECT count(*)::int FROM benefit.available(pg_temp.id('Carol'), 'box-office') WHERE benefit_code = 'gold'), 1,
          'once the contact reaches the level (after go-live), the benefit is hers');
SELECT results_eq($$SELECT benefit_code, entered_code, reason::text FROM benefit.available(NULL, 'box-office', NULL, ARRAY['partner1', 'NOPE'])
                    WHERE entered_code IS NOT NULL ORDER BY 2$$,
                  $$VALUES (NULL, 'NOPE', 'unknown_code'), ('partner', 'partner1', 'ok')$$,
                  'a partner code (any case) unlocks its benefit; a code that unlocks nothing comes back with its reason');
SELECT is((SELECT quota_left FROM benefit.available(NULL, 'box-office', NULL, ARRAY['PARTNER1']) WHERE benefit_code = 'partner'), 2,
          'available shows the units this buyer may still take (the per-order limit here)');
RESET ROLE;
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'elsewhere', 'Another shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
SET ROLE tap_sales;
SELECT is((SELECT reason::text FROM benefit.available(NULL, 'web', NULL, ARRAY[pg_temp.code(1)], 'elsewhere')
            WHERE benefit_code = 'su'), 'wrong_point_of_sale', 'a single-use code on the web works on its point of sale only');
SELECT is((SELECT reason::text FROM benefit.available(NULL, 'web', NULL, ARRAY[pg_temp.code(1)], 'shop')
            WHERE benefit_code = 'su'), 'ok', 'a single-use code unlocks its benefit on its point of sale');
SELECT is((SELECT string_agg(benefit_code, ',' ORDER BY benefit_code) FROM benefit.available(NULL, 'box-office', '2090-06-15')),
          'pub,tie-a,tie-b,winter', 'a benefit is offered inside its validity window only');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
