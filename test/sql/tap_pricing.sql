-- tap_pricing: benefit.price_basket prices each line with the best tariff of
-- the benefits the buyer may use (the most specific tariff row of each
-- benefit, ties to the older benefit, never below 0.00), says why every
-- other benefit was not used, takes missing base prices from the catalogue,
-- and refuses bad input with its SQLSTATE.  The promo code on the basket is
-- tap_promo_codes'.  The fixture (test/fixtures/offers.sql) is built by the
-- DBA (superuser); the calls run as a login granted only benefit_sales.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(25);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

-- one line at a time
SET ROLE tap_sales;
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'box-office')), 1800::bigint,
          'anonymous: the public 10 % off 20.00 gives 18.00');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], pg_temp.id('Alice'), 'box-office')), 'camp',
          'Alice: 5.00 off (15.00) beats 10 % off (18.00)');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], pg_temp.id('Alice'), 'box-office'), 'pub'), 'not_best',
          'the benefit not chosen comes back as not_best');
SELECT results_eq($$SELECT pg_temp.unit(b, 1), pg_temp.used(b, 1), pg_temp.unit(b, 2), pg_temp.used(b, 2)
                      FROM benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1), pg_temp.line('cyrano', 'cyrano-1', 1, 2000, 'child')],
                                                pg_temp.id('Bob'), 'box-office') b$$,
                  $$VALUES (1000::bigint, 'gold', 1800::bigint, 'pub')$$,
                  'Bob: the gold price for adults, the public one for his child (no gold tariff row for children)');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 2)], NULL, 'box-office', NULL, NULL, ARRAY['PARTNER1'])), 'partner',
          'a partner code: 50 % off wins');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 3)], NULL, 'box-office', NULL, NULL, ARRAY['PARTNER1']), 'partner'),
          'quota_exhausted', 'three tickets with a 2-per-order partner benefit: refused with its reason, the line gets the next best');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, 'box-office')), 'tie-b',
          'two benefits at the same price: the older one (lower id) wins, every time');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1, 1000)], NULL, 'box-office'), 'tie-b'), 'price_not_lower',
          'a fixed price not below the base price is not a benefit');
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1, 300)], NULL, 'box-office')), 0::bigint,
          'an amount off above the price gives 0.00, never below');
SELECT is((SELECT entered_code || ':' || reason FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, 'box-office', NULL, NULL,
                                                           ARRAY['PARTNER1'])).refusals) WHERE entered_code IS NOT NULL),
          'PARTNER1:no_tariff', 'a code whose benefit has no tariff for any line says so');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', 'shop', NULL,
                                            ARRAY[pg_temp.code(1)])), 'su',
          'a single-use code prices its line');
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, 'box-office', NULL, '2090-06-15')), 100::bigint,
          'inside its validity window a benefit prices the line');
SELECT pg_temp.line('mouette', NULL, 1) AS line \gset
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[:'line'::benefit.basket_line], NULL, 'box-office')), 1500::bigint,
          'the sales role prices baskets');
SELECT is((benefit.price_basket(('{"lines": [{"product_id": ' || (SELECT product_id FROM benefit.catalogue_product WHERE code = 'tote')
                                 || ', "quantity": 3, "base_price_cents": 333}], "contact_id": ' || pg_temp.id('Carol')
                                 || ', "channel": "box-office", "promo_code": "PROMO10"}')::jsonb) ->> 'total_cents'), '899',
          'the jsonb overload prices the same basket');

-- bad input is an error with its SQLSTATE
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, NULL)$$, '22004', NULL, 'no channel');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1)], NULL, 'mars')$$, '22023', NULL, 'an unknown channel');
SELECT throws_ok($$SELECT benefit.price_basket('{}'::benefit.basket_line[], NULL, 'box-office')$$, '22023', NULL, 'an empty basket');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 0)], NULL, 'box-office')$$, '22023', NULL, 'a quantity of 0');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[ROW(999999, NULL, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office')$$,
                 'P0002', NULL, 'an unknown product');
SELECT throws_ok($$SELECT benefit.price_basket(array_fill(pg_temp.line('mouette', NULL, 1), ARRAY[201]), NULL, 'box-office')$$, '54000', NULL,
                 'more than 200 lines');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('mouette', NULL, 1, -1)], NULL, 'box-office')$$, '22023', NULL, 'a negative price');
SELECT throws_ok($$SELECT benefit.price_basket('[1]'::jsonb)$$, '22023', NULL, 'JSON that is not a basket');

-- a line without base price takes the catalogue's: tote costs 15.00, 12.00 for a child;
-- the programme has no price
RESET ROLE;
INSERT INTO benefit.base_price (product_id, audience_id, price_cents)
    SELECT product_id, (SELECT audience_id FROM benefit.audience WHERE code = 'child'), 1200 FROM benefit.product WHERE code = 'tote';
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'programme', 'Programme', family_id, season_id FROM benefit.product_family, benefit.season WHERE product_family.code = 'goods';
SET ROLE tap_sales;
SELECT results_eq($$SELECT (b.lines[1]).base_price_cents, (b.lines[2]).base_price_cents
                      FROM benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, 1, NULL, 'child'), pg_temp.line('tote', NULL, 1, NULL, 'adult')],
                                                NULL, 'box-office') b$$,
                  $$VALUES (1200::bigint, 1500::bigint)$$,
                  'a line without base price gets the most specific catalogue price (child row, then the any-audience row)');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('programme', NULL, 1, NULL)], NULL, 'box-office')$$, '22023', NULL,
                 'a line without base price for a product without catalogue price');
RESET ROLE;

-- each benefit prices a line with its most specific tariff row that fits (then the lower tariff id)
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'spec', 'spec', family_id, season_id FROM benefit.product_family, benefit.season WHERE product_family.code = 'tickets';
INSERT INTO benefit.performance (code, product_id, starts_at)
    SELECT 'spec1', product_id, '2990-12-02 20:00+00' FROM benefit.product WHERE code = 'spec';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels)
    SELECT 'spec', 'spec', season_id, 'public', true FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, performance_id, seat_category_id, audience_id, price_cents)
SELECT pg_temp.id('benefit', 'spec'), p.product_id,
       CASE WHEN v.perf THEN pg_temp.id('spec1') END,
       CASE WHEN v.seat THEN pg_temp.id('stalls') END,
       CASE WHEN v.child THEN pg_temp.id('child') END, v.price
  FROM benefit.product p,
       (VALUES (false, false, false, 1500), (false, true, false, 1200), (false, true, true, 900), (true, false, false, 1000))
       v (perf, seat, child, price)
 WHERE p.code = 'spec'
 ORDER BY v.price DESC;
SELECT benefit.go_live(pg_temp.id('benefit', 'spec')) \g /dev/null
CREATE FUNCTION pg_temp.sline(perf boolean, seat boolean, aud text) RETURNS benefit.basket_line LANGUAGE sql AS $$
    SELECT ROW(pg_temp.id('product', 'spec'), CASE WHEN perf THEN pg_temp.id('spec1') END, CASE WHEN seat THEN pg_temp.id('stalls') END,
               pg_temp.id(aud), 1, 2000)::benefit.basket_line $$;
SET ROLE tap_sales;
SELECT results_eq(
    $$SELECT l.unit_price_cents
        FROM unnest((benefit.price_basket(ARRAY[pg_temp.sline(false, false, 'adult'), pg_temp.sline(false, true, 'adult'),
                                                pg_temp.sline(false, true, 'child'), pg_temp.sline(true, false, 'adult'),
                                                pg_temp.sline(true, true, 'adult')], NULL, 'box-office')).lines) l
       ORDER BY l.line_no$$,
    $$VALUES (1500::bigint), (1200), (900), (1000), (1200)$$,
    'a line gets the most specific tariff row that fits it: open row, seat category, seat category and audience, performance; equally specific rows go to the lower tariff id');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
