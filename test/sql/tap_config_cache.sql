-- tap_config_cache: the configuration cache (src/config.c) follows every
-- change of the configuration in the session that made it: each cached fact
-- is edited (by the DBA, between calls of a login granted only
-- benefit_sales) and the next call sees it; a TRUNCATE of a configuration
-- table too; the catalogue a basket's lines are checked against (products,
-- performances with their product, seat categories, audiences, base prices
-- and the choice of the most specific one) likewise; and after DROP /
-- CREATE EXTENSION in a session that had a cache, nothing of the old one is
-- used.  The fixture (test/fixtures/sale.sql) is built by the DBA
-- (superuser).
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(43);
\i test/fixtures/logins.sql
\i test/fixtures/sale.sql

-- the unit price of one adult stalls seat of cyrano-1 (40.00 before benefits) with its benefit
CREATE FUNCTION pg_temp.price(channel text, codes text[] DEFAULT NULL, promo text DEFAULT NULL,
                              pos text DEFAULT NULL, contact bigint DEFAULT NULL) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT format('%s %s', b.total_cents, coalesce(b.lines[1].benefit_code, '-'))
      FROM benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], contact, channel, pos, NULL, codes, promo) b $$;
-- what available offers: code:reason, in its order
CREATE FUNCTION pg_temp.offered(channel text, codes text[] DEFAULT NULL, contact bigint DEFAULT NULL,
                                pos text DEFAULT NULL) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT coalesce(string_agg(coalesce(a.benefit_code, a.entered_code) || ':' || a.reason, ','), '')
      FROM benefit.available(contact, channel, NULL, codes, pos) a $$;

SET ROLE tap_sales;
SELECT is(pg_temp.price('box-office'), '3600 pub', 'the cache is built: pub gives 10 % off');

-- a tariff row
RESET ROLE;
SELECT benefit.suspend(pg_temp.id('benefit', 'pub')) \g /dev/null
SET ROLE tap_sales;
SELECT is(pg_temp.price('box-office'), '4000 -', 'a suspended benefit is not used at the next call');
SELECT is(pg_temp.offered('box-office'), '', 'nor offered');
RESET ROLE;
UPDATE benefit.benefit_tariff SET percent_off = 25 WHERE benefit_id = pg_temp.id('benefit', 'pub');
SELECT benefit.go_live(pg_temp.id('benefit', 'pub')) \g /dev/null
SET ROLE tap_sales;
SELECT is(pg_temp.price('box-office'), '3000 pub', 'the new tariff row and the benefit live again are seen');
SELECT is((SELECT tariffs -> 0 ->> 'percent_off' FROM benefit.available(NULL, 'box-office')), '25',
          'available shows the new tariff row');

-- validity
RESET ROLE;
UPDATE benefit.benefit SET valid_until = now() - interval '1 day', valid_from = now() - interval '2 days'
 WHERE code = 'pub';
SET ROLE tap_sales;
SELECT is(pg_temp.price('box-office'), '4000 -', 'a validity window ended is seen');

-- channels of a benefit
RESET ROLE;
SELECT benefit.suspend(pg_temp.id('benefit', 'pub')) \g /dev/null
INSERT INTO benefit.benefit_channel (benefit_id, channel_id) VALUES (pg_temp.id('benefit', 'pub'), pg_temp.id('channel', 'web'));
UPDATE benefit.benefit SET valid_until = NULL, valid_from = NULL, all_channels = false WHERE code = 'pub';
SELECT benefit.go_live(pg_temp.id('benefit', 'pub')) \g /dev/null
SET ROLE tap_sales;
SELECT is(pg_temp.price('box-office'), '4000 -', 'a benefit taken off a channel is not used there');
SELECT is(pg_temp.price('web'), '3000 pub', 'but is on the channel added');

-- sales channels and points of sale
RESET ROLE;
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('kiosk', 'Kiosk', 'box_office');
SET ROLE tap_sales;
SELECT is(pg_temp.price('kiosk'), '4000 -', 'a new sales channel is known at the next call');
RESET ROLE;
UPDATE benefit.sales_channel SET code = 'kiosk2' WHERE code = 'kiosk';
SET ROLE tap_sales;
SELECT throws_ok($$SELECT pg_temp.price('kiosk')$$, '22023', 'sales channel "kiosk" does not exist',
                 'a channel renamed is unknown under its old code');
SELECT is(pg_temp.price('kiosk2'), '4000 -', 'and known under its new one');
RESET ROLE;
UPDATE benefit.point_of_sale SET code = 'shop9' WHERE code = 'shop';
SET ROLE tap_sales;
SELECT throws_ok($$SELECT pg_temp.price('web', pos => 'shop')$$, '22023', 'point of sale "shop" does not exist',
                 'a point of sale renamed is unknown under its old code');
SELECT is(pg_temp.offered('web', ARRAY[pg_temp.code(1)], pos => 'shop9'), 'pub:ok,su:ok',
          'and known under its new one, still the single-use benefit''s');

-- partner access code, quotas
RESET ROLE;
SELECT benefit.suspend(pg_temp.id('benefit', 'opera')) \g /dev/null
UPDATE benefit.benefit SET access_code = 'OPERA2027', quota_total = 150 WHERE code = 'opera';
SELECT benefit.go_live(pg_temp.id('benefit', 'opera')) \g /dev/null
SET ROLE tap_sales;
SELECT is(pg_temp.offered('box-office', ARRAY['operagrand264', 'opera2027']),
          'opera:ok,operagrand264:unknown_code',
          'a new partner access code is read as one, the old one no longer');
SELECT is((SELECT quota_left FROM benefit.available(NULL, 'box-office', NULL, ARRAY['OPERA2027'])
            WHERE benefit_code = 'opera'), 150, 'a quota raised is seen');
RESET ROLE;
UPDATE benefit.benefit SET quota_total = NULL WHERE code = 'pub';
SET ROLE tap_sales;
SELECT is((SELECT quota_left FROM benefit.available(NULL, 'web') WHERE benefit_code = 'pub'), NULL::integer,
          'a quota removed is seen');

-- promo codes and their channels
RESET ROLE;
INSERT INTO benefit.promo_code (code, name, amount_off_cents, all_channels) VALUES ('SPRING', 'Spring', 500, false);
INSERT INTO benefit.promo_code_channel (promo_code_id, channel_id) VALUES (pg_temp.id('promo_code', 'SPRING'), pg_temp.id('channel', 'web'));
SET ROLE tap_sales;
SELECT is(pg_temp.price('web', promo => 'spring'), '2500 pub', 'a new promo code applies at the next call');
SELECT is(pg_temp.price('box-office', promo => 'spring'), '4000 -', 'on its channels only');
RESET ROLE;
UPDATE benefit.promo_code SET amount_off_cents = 700 WHERE code = 'SPRING';
SET ROLE tap_sales;
SELECT is(pg_temp.price('web', promo => 'spring'), '2300 pub', 'a promo code''s new discount is seen');
RESET ROLE;
DELETE FROM benefit.promo_code_channel;
SET ROLE tap_sales;
SELECT is(pg_temp.price('web', promo => 'spring'), '3000 pub', 'a promo code taken off a channel is refused there');

-- TRUNCATE of a configuration table
RESET ROLE;
SET client_min_messages = warning;
SELECT benefit.suspend(pg_temp.id('benefit', 'pub')) \g /dev/null
DELETE FROM benefit.benefit_channel WHERE benefit_id = pg_temp.id('benefit', 'pub');
UPDATE benefit.benefit SET all_channels = true WHERE code = 'pub';
SELECT benefit.go_live(pg_temp.id('benefit', 'pub')) \g /dev/null
SET ROLE tap_sales;
SELECT is(pg_temp.offered('box-office', ARRAY[pg_temp.code(1)]), 'pub:ok,su:ok', 'before a TRUNCATE');
RESET ROLE;
TRUNCATE benefit.benefit_channel;
SET ROLE tap_sales;
SELECT is(pg_temp.offered('box-office', ARRAY[pg_temp.code(1)]), 'pub:ok,su:wrong_channel',
          'the channels of a benefit truncated are gone at the next call');
RESET ROLE;
TRUNCATE benefit.promo_code CASCADE;
SET ROLE tap_sales;
SELECT is(pg_temp.price('web', promo => 'SPRING'), '3000 pub', 'the promo codes truncated are gone at the next call');

-- the catalogue (basket lines): the base price of one unit of a line given by ids, without base price
RESET ROLE;
CREATE FUNCTION pg_temp.base(prod bigint, perf bigint, seat bigint, aud bigint) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT b.base_cents
      FROM benefit.price_basket(ARRAY[ROW(prod, perf, seat, aud, 1, NULL)::benefit.basket_line], NULL, 'box-office') b $$;
SET ROLE tap_sales;
SELECT is(pg_temp.base(pg_temp.id('cyrano'), pg_temp.id('cyrano-1'), pg_temp.id('stalls'), pg_temp.id('adult')), 4000::bigint,
          'the catalogue is cached: cyrano stalls adult 40.00');
RESET ROLE;
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'hamlet', 'Hamlet', family_id, season_id FROM benefit.product_family, benefit.season WHERE product_family.code = 'tickets';
INSERT INTO benefit.base_price (product_id, price_cents) VALUES (pg_temp.id('hamlet'), 5000);
SET ROLE tap_sales;
SELECT is(pg_temp.base(pg_temp.id('hamlet'), NULL, NULL, NULL), 5000::bigint, 'a product added is priced at the next call');
RESET ROLE;
UPDATE benefit.base_price SET price_cents = 5500 WHERE product_id = pg_temp.id('hamlet');
SET ROLE tap_sales;
SELECT is(pg_temp.base(pg_temp.id('hamlet'), NULL, NULL, NULL), 5500::bigint, 'a base price changed is seen');
RESET ROLE;
INSERT INTO benefit.base_price (product_id, audience_id, price_cents) VALUES (pg_temp.id('hamlet'), pg_temp.id('child'), 2000);
SET ROLE tap_sales;
SELECT is(pg_temp.base(pg_temp.id('hamlet'), NULL, NULL, pg_temp.id('child')), 2000::bigint,
          'a more specific base price added is taken');
SELECT is(pg_temp.base(pg_temp.id('hamlet'), NULL, NULL, pg_temp.id('adult')), 5500::bigint,
          'the product''s other lines keep the general one');
RESET ROLE;
INSERT INTO benefit.performance (code, product_id, starts_at) VALUES ('hamlet-1', pg_temp.id('hamlet'), '2990-12-05 20:00+00');
SELECT pg_temp.id('hamlet') AS hamlet, pg_temp.id('hamlet-1') AS hamlet1, pg_temp.id('cyrano') AS cyrano \gset
SET ROLE tap_sales;
SELECT is(pg_temp.base(:hamlet, :hamlet1, NULL, NULL), 5500::bigint, 'a performance added is known at the next call');
SELECT throws_ok(format($$SELECT pg_temp.base(%s, %s, NULL, NULL)$$, :cyrano, :hamlet1), '22023',
                 format('line 1: performance %s is not a performance of product %s', :hamlet1, :cyrano),
                 'a performance of another product is refused');
RESET ROLE;
UPDATE benefit.performance SET product_id = :cyrano WHERE performance_id = :hamlet1;
SET ROLE tap_sales;
SELECT is(pg_temp.base(:cyrano, :hamlet1, pg_temp.id('stalls'), pg_temp.id('adult')), 4000::bigint,
          'a performance moved to another product is that product''s at the next call');
SELECT throws_ok(format($$SELECT pg_temp.base(%s, %s, NULL, NULL)$$, :hamlet, :hamlet1), '22023',
                 format('line 1: performance %s is not a performance of product %s', :hamlet1, :hamlet),
                 'and no longer its old product''s');
RESET ROLE;
-- three rows of the same specificity (2) fit cyrano hamlet-1 stalls adult: the lowest base_price_id wins
INSERT INTO benefit.base_price (product_id, performance_id, seat_category_id, price_cents)
    VALUES (:cyrano, :hamlet1, pg_temp.id('stalls'), 4200);
INSERT INTO benefit.base_price (product_id, performance_id, audience_id, price_cents)
    VALUES (:cyrano, :hamlet1, pg_temp.id('adult'), 4300);
SET ROLE tap_sales;
SELECT is(pg_temp.base(:cyrano, :hamlet1, pg_temp.id('stalls'), pg_temp.id('adult')), 4000::bigint,
          'of equally specific base prices the first row is taken');
RESET ROLE;
DELETE FROM benefit.base_price WHERE product_id = :cyrano AND seat_category_id = pg_temp.id('stalls')
                                 AND audience_id = pg_temp.id('adult');
SET ROLE tap_sales;
SELECT is(pg_temp.base(:cyrano, :hamlet1, pg_temp.id('stalls'), pg_temp.id('adult')), 4200::bigint,
          'once it is deleted, the next one');
SELECT is(pg_temp.base(:cyrano, pg_temp.id('cyrano-1'), pg_temp.id('stalls'), pg_temp.id('child')), 1500::bigint,
          'and another performance is priced by the rows left');
RESET ROLE;
DELETE FROM benefit.base_price WHERE performance_id = :hamlet1;
DELETE FROM benefit.performance WHERE performance_id = :hamlet1;
SET ROLE tap_sales;
SELECT throws_ok(format($$SELECT pg_temp.base(%s, %s, NULL, NULL)$$, :cyrano, :hamlet1), 'P0002',
                 format('line 1: performance %s does not exist', :hamlet1), 'a performance deleted is unknown');
RESET ROLE;
INSERT INTO benefit.seat_category (code, name) VALUES ('loge', 'Loge');
INSERT INTO benefit.audience (code, name) VALUES ('senior', 'Senior');
SELECT pg_temp.id('loge') AS loge, pg_temp.id('senior') AS senior \gset
SET ROLE tap_sales;
SELECT is(pg_temp.base(:hamlet, NULL, :loge, :senior), 5500::bigint, 'a seat category and an audience added are known');
RESET ROLE;
DELETE FROM benefit.seat_category WHERE code = 'loge';
SET ROLE tap_sales;
SELECT throws_ok(format($$SELECT pg_temp.base(%s, NULL, %s, %s)$$, :hamlet, :loge, :senior), 'P0002',
                 format('line 1: seat category %s does not exist', :loge), 'a seat category deleted is unknown');
RESET ROLE;
DELETE FROM benefit.audience WHERE code = 'senior';
SET ROLE tap_sales;
SELECT throws_ok(format($$SELECT pg_temp.base(%s, NULL, NULL, %s)$$, :hamlet, :senior), 'P0002',
                 format('line 1: audience %s does not exist', :senior), 'an audience deleted is unknown');
RESET ROLE;
TRUNCATE benefit.base_price;
SET ROLE tap_sales;
SELECT throws_ok(format($$SELECT pg_temp.base(%s, NULL, NULL, NULL)$$, :hamlet), '22023',
                 format('line 1: no catalogue price for product %s with this performance, seat category and audience', :hamlet),
                 'the base prices truncated are gone at the next call');
RESET ROLE;
DELETE FROM benefit.product WHERE code = 'hamlet';
SET ROLE tap_sales;
SELECT throws_ok(format($$SELECT pg_temp.base(%s, NULL, NULL, NULL)$$, :hamlet), 'P0002',
                 format('line 1: product %s does not exist', :hamlet), 'a product deleted is unknown');

-- DROP / CREATE EXTENSION in a session that had a cache
RESET ROLE;
DROP EXTENSION benefit CASCADE;
CREATE EXTENSION benefit;
SET ROLE tap_sales;
SELECT throws_ok($$SELECT * FROM benefit.available(NULL, 'box-office')$$, '22023',
                 'sales channel "box-office" does not exist', 'after DROP / CREATE EXTENSION the old channels are gone');
RESET ROLE;
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box-office', 'Box office', 'box_office');
SET ROLE tap_sales;
SELECT is((SELECT count(*)::int FROM benefit.available(NULL, 'box-office')), 0, 'and so are the old benefits');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
