-- tap_runtime: who may use what (available, contacts_with_benefits), basket pricing
-- (best tariff per line, quotas, promo code allocated to the cent, every refusal reason),
-- and the two-phase purchase (hold, confirm, release, expire_holds) with the usage views.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(89);

-- a small catalogue: product p (performances p1, p2), product q, product r (no benefit)
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s', 'Season', '2026-01-01', '2099-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office'), ('web', 'Web', 'web');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'shop', 'Shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT v, v, family_id, season_id FROM benefit.product_family, benefit.season, (VALUES ('p'), ('q'), ('r')) x(v);
INSERT INTO benefit.performance (code, product_id, starts_at, ends_at)
    SELECT v, product_id, '2026-12-01 20:00+00', '2026-12-01 22:00+00' FROM benefit.product, (VALUES ('p1'), ('p2')) x(v) WHERE code = 'p';
INSERT INTO benefit.audience (code, name) VALUES ('adult', 'Adult'), ('child', 'Child');
INSERT INTO benefit.contact (kind, name, email, language) VALUES
    ('person', 'Alice', 'alice@example.org', 'fr'), ('person', 'Bob', 'bob@example.org', 'fr'),
    ('person', 'Carol', 'carol@example.org', 'fr'), ('organisation', 'Org', 'org@example.org', 'fr');
INSERT INTO benefit.indicator (code, name) VALUES ('loyalty', 'Loyalty');
INSERT INTO benefit.indicator_level (indicator_id, code, name) SELECT indicator_id, 'gold', 'Gold' FROM benefit.indicator;
INSERT INTO benefit.campaign (code, name) VALUES ('mailing', 'Mailing');
INSERT INTO benefit.campaign_target (campaign_id, contact_id)
    SELECT campaign_id, contact_id FROM benefit.campaign, benefit.contact WHERE contact.name = 'Alice';

CREATE FUNCTION pg_temp.bid(c text) RETURNS bigint LANGUAGE sql AS $$ SELECT benefit_id FROM benefit.benefit WHERE code = c $$;
CREATE FUNCTION pg_temp.cid(n text) RETURNS bigint LANGUAGE sql AS $$ SELECT contact_id FROM benefit.contact WHERE name = n $$;
CREATE FUNCTION pg_temp.line(prod text, perf text, qty int, base bigint DEFAULT 2000, aud text DEFAULT 'adult')
RETURNS benefit.basket_line LANGUAGE sql AS $$
    SELECT ROW((SELECT product_id FROM benefit.product WHERE code = prod),
               (SELECT performance_id FROM benefit.performance WHERE code = perf), NULL,
               (SELECT audience_id FROM benefit.audience WHERE code = aud), qty, base)::benefit.basket_line $$;
-- the priced basket of one call, and its first line
CREATE FUNCTION pg_temp.unit(b benefit.priced_basket, n int DEFAULT 1) RETURNS bigint LANGUAGE sql AS $$ SELECT (b.lines[n]).unit_price_cents $$;
CREATE FUNCTION pg_temp.used(b benefit.priced_basket, n int DEFAULT 1) RETURNS text LANGUAGE sql AS $$ SELECT (b.lines[n]).benefit_code $$;
CREATE FUNCTION pg_temp.why(b benefit.priced_basket, bcode text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(r.reason::text, ',' ORDER BY r.line_no) FROM unnest(b.refusals) r WHERE r.benefit_code = bcode $$;
CREATE FUNCTION pg_temp.promo_why(b benefit.priced_basket) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(r.reason::text, ',') FROM unnest(b.refusals) r WHERE r.line_no IS NULL AND r.benefit_id IS NULL $$;

-- benefits: public 10 % off p (quota 5, 3 per performance); campaign 5.00 off p; indicator gold:
-- adults 10.00 on p; partner PARTNER1 50 % off p (2 per order); single-use 8.00 on p;
-- two public benefits on q at the same price (tie)
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, quota_per_performance,
                             campaign_id, indicator_level_id, access_code, quota_per_order, point_of_sale_id)
SELECT v.code, v.code, s.season_id, v.t::benefit.target_type, true, v.q, v.qp,
       CASE WHEN v.t = 'contacts' THEN (SELECT campaign_id FROM benefit.campaign) END,
       CASE WHEN v.t = 'indicator' THEN (SELECT level_id FROM benefit.indicator_level) END,
       CASE WHEN v.t = 'partner' THEN 'PARTNER1' END, v.qo,
       CASE WHEN v.t = 'single_use' THEN (SELECT point_of_sale_id FROM benefit.point_of_sale) END
  FROM benefit.season s,
       (VALUES ('pub', 'public', 5, 3, NULL), ('camp', 'contacts', NULL, NULL, NULL), ('gold', 'indicator', NULL, NULL, NULL),
               ('partner', 'partner', 100, NULL, 2), ('su', 'single_use', 100, NULL, NULL),
               ('tie-b', 'public', NULL, NULL, NULL), ('tie-a', 'public', NULL, NULL, NULL),
               ('winter', 'public', NULL, NULL, NULL)) v(code, t, q, qp, qo);
UPDATE benefit.benefit SET valid_from = '2090-06-01', valid_until = '2090-07-01' WHERE code = 'winter';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, audience_id, price_cents, amount_off_cents, percent_off)
SELECT pg_temp.bid(v.b), p.product_id, (SELECT audience_id FROM benefit.audience WHERE code = v.aud), v.price, v.off, v.pct
  FROM (VALUES ('pub', 'p', NULL, NULL::bigint, NULL::bigint, 10::numeric), ('camp', 'p', NULL, NULL, 500, NULL),
               ('gold', 'p', 'adult', 1000, NULL, NULL), ('partner', 'p', NULL, NULL, NULL, 50),
               ('su', 'p', NULL, 800, NULL, NULL), ('tie-b', 'q', NULL, 1500, NULL, NULL),
               ('tie-a', 'q', NULL, NULL, 500, NULL), ('winter', 'q', NULL, 100, NULL, NULL)) v(b, prod, aud, price, off, pct)
  JOIN benefit.product p ON p.code = v.prod;
UPDATE benefit.benefit SET quota_per_contact = 2 WHERE code = 'camp';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit ORDER BY benefit_id \g /dev/null
SELECT benefit.generate_codes(pg_temp.bid('su'), pg_temp.cid('Org'), 3, 'letter', 'fr') \g /dev/null
CREATE TEMP TABLE su_codes AS SELECT code::text AS code, row_number() OVER (ORDER BY code) AS n FROM benefit.single_use_code;
-- promo codes
INSERT INTO benefit.promo_code (code, name, percent_off, amount_off_cents, all_channels, min_basket_cents,
                                indicator_level_id, max_uses_total, max_uses_per_contact, is_active, valid_until)
VALUES ('PROMO10', '10 %', 10, NULL, true, 500, NULL, 2, 1, true, NULL),
       ('FIVE', '5.00 for gold', NULL, 500, true, 0, (SELECT level_id FROM benefit.indicator_level), NULL, NULL, true, NULL),
       ('OFF', 'inactive', 10, NULL, true, 0, NULL, NULL, NULL, false, NULL),
       ('OLD', 'expired', 10, NULL, true, 0, NULL, NULL, NULL, true, '2020-01-01'),
       ('WEBONLY', 'web only', 10, NULL, false, 0, NULL, NULL, NULL, true, NULL),
       ('BIG', 'big amount', NULL, 50000, true, 0, NULL, NULL, NULL, true, NULL),
       ('SOON', 'not yet', 10, NULL, true, 0, NULL, NULL, NULL, true, NULL);
UPDATE benefit.promo_code SET valid_from = '2090-01-01' WHERE code = 'SOON';
INSERT INTO benefit.promo_code_channel (promo_code_id, channel_id)
    SELECT promo_code_id, channel_id FROM benefit.promo_code, benefit.sales_channel WHERE promo_code.code = 'WEBONLY' AND sales_channel.code = 'web';

-- who may use what
SELECT results_eq($$SELECT benefit_code FROM benefit.available(NULL, 'box') ORDER BY 1$$,
                  $$VALUES ('pub'), ('tie-a'), ('tie-b')$$, 'an anonymous buyer sees the public benefits only');
SELECT results_eq($$SELECT benefit_code FROM benefit.available(pg_temp.cid('Alice'), 'box') ORDER BY 1$$,
                  $$VALUES ('camp'), ('pub'), ('tie-a'), ('tie-b')$$, 'a contact on the campaign''s target list sees its benefit');
SELECT is((SELECT count(*)::int FROM benefit.available(pg_temp.cid('Bob'), 'box') WHERE benefit_code = 'gold'), 0,
          'a contact without the indicator level does not see the indicator benefit');
INSERT INTO benefit.contact_indicator (contact_id, indicator_id, level_id)
    SELECT pg_temp.cid('Bob'), indicator_id, level_id FROM benefit.indicator_level;
SELECT is((SELECT count(*)::int FROM benefit.available(pg_temp.cid('Bob'), 'box') WHERE benefit_code = 'gold'), 1,
          'once the contact reaches the level (after go-live), the benefit is his');
SELECT results_eq($$SELECT benefit_code, entered_code, reason::text FROM benefit.available(NULL, 'box', NULL, ARRAY['partner1', 'NOPE'])
                    WHERE entered_code IS NOT NULL ORDER BY 2$$,
                  $$VALUES (NULL, 'NOPE', 'unknown_code'), ('partner', 'partner1', 'ok')$$,
                  'a partner code (any case) unlocks its benefit; a code that unlocks nothing comes back with its reason');
SELECT is((SELECT quota_left FROM benefit.available(NULL, 'box', NULL, ARRAY['PARTNER1']) WHERE benefit_code = 'partner'), 2,
          'available shows the units this buyer may still take (the per-order limit here)');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'elsewhere', 'Another shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
SELECT is((SELECT reason::text FROM benefit.available(NULL, 'web', NULL, ARRAY[(SELECT code FROM su_codes WHERE n = 1)], 'elsewhere')
            WHERE benefit_code = 'su'), 'wrong_point_of_sale', 'a single-use code on the web works on its point of sale only');
SELECT is((SELECT reason::text FROM benefit.available(NULL, 'web', NULL, ARRAY[(SELECT code FROM su_codes WHERE n = 1)], 'shop')
            WHERE benefit_code = 'su'), 'ok', 'a single-use code unlocks its benefit on its point of sale');
SELECT is((SELECT string_agg(benefit_code, ',' ORDER BY benefit_code) FROM benefit.available(NULL, 'box', '2090-06-15')),
          'pub,tie-a,tie-b,winter', 'a benefit is offered inside its validity window only');
SELECT results_eq($$SELECT contact_id, benefits FROM benefit.contacts_with_benefits(
                      ARRAY[pg_temp.cid('Alice'), pg_temp.cid('Bob'), pg_temp.cid('Carol'), NULL, 999999], 'box')$$,
                  $$VALUES (pg_temp.cid('Alice'), 1), (pg_temp.cid('Bob'), 1)$$,
                  'contacts_with_benefits: of a screen of contacts, those with a personal benefit');

-- pricing, one line at a time
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'box')), 1800::bigint,
          'anonymous: the public 10 % off 20.00 gives 18.00');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], pg_temp.cid('Alice'), 'box')), 'camp',
          'Alice: 5.00 off (15.00) beats 10 % off (18.00)');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], pg_temp.cid('Alice'), 'box'), 'pub'), 'not_best',
          'the benefit not chosen comes back as not_best');
SELECT results_eq($$SELECT pg_temp.unit(b, 1), pg_temp.used(b, 1), pg_temp.unit(b, 2), pg_temp.used(b, 2)
                      FROM benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1), pg_temp.line('p', 'p1', 1, 2000, 'child')],
                                                pg_temp.cid('Bob'), 'box') b$$,
                  $$VALUES (1000::bigint, 'gold', 1800::bigint, 'pub')$$,
                  'Bob: the gold price for adults, the public one for his child (no gold tariff row for children)');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 2)], NULL, 'box', NULL, NULL, ARRAY['PARTNER1'])), 'partner',
          'a partner code: 50 % off wins');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 3)], NULL, 'box', NULL, NULL, ARRAY['PARTNER1']), 'partner'),
          'quota_exhausted', 'three tickets with a 2-per-order partner benefit: refused with its reason, the line gets the next best');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], NULL, 'box')), 'tie-b',
          'two benefits at the same price: the older one (lower id) wins, every time');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1, 1000)], NULL, 'box'), 'tie-b'), 'price_not_lower',
          'a fixed price not below the base price is not a benefit');
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1, 300)], NULL, 'box')), 0::bigint,
          'an amount off above the price gives 0.00, never below');
SELECT is((SELECT entered_code || ':' || reason FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], NULL, 'box', NULL, NULL,
                                                           ARRAY['PARTNER1'])).refusals) WHERE entered_code IS NOT NULL),
          'PARTNER1:no_tariff', 'a code whose benefit has no tariff for any line says so');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'web', 'shop', NULL,
                                            ARRAY[(SELECT code FROM su_codes WHERE n = 1)])), 'su',
          'a single-use code prices its line');
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], NULL, 'box', NULL, '2090-06-15')), 100::bigint,
          'inside its validity window a benefit prices the line');

-- the promo code on the whole basket
SELECT results_eq($$SELECT b.lines_cents, b.promo_discount_cents, b.total_cents, (b.lines[1]).promo_discount_cents,
                           (b.lines[2]).promo_discount_cents, (b.lines[3]).promo_discount_cents
                      FROM benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1, 333), pg_temp.line('r', NULL, 1, 333),
                                                      pg_temp.line('r', NULL, 1, 333)],
                                                pg_temp.cid('Carol'), 'box', NULL, NULL, NULL, 'promo10') b$$,
                  $$VALUES (999::bigint, 100::bigint, 899::bigint, 34::bigint, 33::bigint, 33::bigint)$$,
                  '10 % of 3 x 3.33 is 1.00, allocated 0.34 + 0.33 + 0.33 (to the cent, any case of the code)');
SELECT is((SELECT sum((l).promo_discount_cents) FROM unnest((benefit.price_basket(
              ARRAY[pg_temp.line('p', 'p1', 3), pg_temp.line('r', NULL, 7, 1999), pg_temp.line('r', NULL, 1, 1)],
              pg_temp.cid('Carol'), 'box', NULL, NULL, NULL, 'PROMO10')).lines) l), 1939::numeric,
          'the parts of a discount always add up to it (10 % of 3 x 18.00 + 7 x 19.99 + 0.01 = 193.94 is 19.39)');
SELECT results_eq($$SELECT b.promo_discount_cents, b.total_cents
                      FROM benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1, 300)], NULL, 'box', NULL, NULL, NULL, 'BIG') b$$,
                  $$VALUES (300::bigint, 0::bigint)$$, 'an amount above the basket takes the basket, never more');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'box', NULL, NULL, NULL, 'NOSUCH')),
          'unknown_promo_code', 'an unknown promo code');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'box', NULL, NULL, NULL, 'OFF')),
          'promo_not_active', 'an inactive promo code');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'box', NULL, NULL, NULL, 'OLD')),
          'expired', 'an expired promo code');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'box', NULL, NULL, NULL, 'SOON')),
          'not_yet_valid', 'a promo code before its validity');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'box', NULL, NULL, NULL, 'WEBONLY')),
          'wrong_channel', 'a promo code on a channel it is not for');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'web', NULL, NULL, NULL, 'WEBONLY')),
          NULL, 'the same promo code on its channel applies');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], pg_temp.cid('Carol'), 'box', NULL, NULL, NULL, 'FIVE')),
          'indicator_level_required', 'a promo code for an indicator level, for a contact without it');
SELECT is((benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], pg_temp.cid('Bob'), 'box', NULL, NULL, NULL, 'FIVE')).promo_discount_cents,
          500::bigint, 'the same promo code for a contact with the level');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1)], NULL, 'box', NULL, NULL, NULL, 'PROMO10')),
          'contact_required', 'a promo code limited per contact needs a known contact');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1, 400)], pg_temp.cid('Carol'), 'box', NULL, NULL, NULL, 'PROMO10')),
          'min_amount_not_reached', 'a basket below the minimum amount');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1, 540)], pg_temp.cid('Carol'), 'box', NULL, NULL, NULL, 'PROMO10')),
          'min_amount_not_reached', 'the minimum is measured after line benefits (5.40 - 10 % = 4.86 < 5.00)');
SELECT is((benefit.price_basket(('{"lines": [{"product_id": ' || (SELECT product_id FROM benefit.product WHERE code = 'r')
                                 || ', "quantity": 3, "base_price_cents": 333}], "contact_id": ' || pg_temp.cid('Carol')
                                 || ', "channel": "box", "promo_code": "PROMO10"}')::jsonb) ->> 'total_cents'), '899',
          'the jsonb overload prices the same basket');

-- bad input is an error with its SQLSTATE
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], NULL, NULL)$$, '22004', NULL, 'no channel');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], NULL, 'mars')$$, '22023', NULL, 'an unknown channel');
SELECT throws_ok($$SELECT benefit.price_basket('{}'::benefit.basket_line[], NULL, 'box')$$, '22023', NULL, 'an empty basket');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 0)], NULL, 'box')$$, '22023', NULL, 'a quantity of 0');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[ROW(999999, NULL, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box')$$,
                 'P0002', NULL, 'an unknown product');
SELECT throws_ok($$SELECT benefit.price_basket(array_fill(pg_temp.line('q', NULL, 1), ARRAY[201]), NULL, 'box')$$, '54000', NULL,
                 'more than 200 lines');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1, -1)], NULL, 'box')$$, '22023', NULL, 'a negative price');
SELECT throws_ok($$SELECT benefit.price_basket('[1]'::jsonb)$$, '22023', NULL, 'JSON that is not a basket');
INSERT INTO benefit.base_price (product_id, audience_id, price_cents)
    SELECT product_id, (SELECT audience_id FROM benefit.audience WHERE code = 'child'), 1200 FROM benefit.product WHERE code = 'r';
INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, 1500 FROM benefit.product WHERE code = 'r';
SELECT results_eq($$SELECT (b.lines[1]).base_price_cents, (b.lines[2]).base_price_cents
                      FROM benefit.price_basket(ARRAY[pg_temp.line('r', NULL, 1, NULL, 'child'), pg_temp.line('r', NULL, 1, NULL, 'adult')],
                                                NULL, 'box') b$$,
                  $$VALUES (1200::bigint, 1500::bigint)$$,
                  'a line without base price gets the most specific catalogue price (child row, then the any-audience row)');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1, NULL)], NULL, 'box')$$, '22023', NULL,
                 'a line without base price for a product without catalogue price');

-- holding, confirming, releasing
SELECT is((benefit.hold('o1', ARRAY[pg_temp.line('p', 'p1', 2)], NULL, 'box', now() + interval '10 minutes')).reason::text, 'ok',
          'a hold of two public tickets');
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'pub'$$, $$VALUES (2, 0, 3)$$,
                  'benefit_usage: 2 held, 3 left');
SELECT is((benefit.hold('o1', ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'box', now() + interval '10 minutes')).reason::text,
          'order_already_held', 'an order reference is held once');
SELECT is(benefit.confirm('o1')::text, 'ok', 'confirm');
SELECT results_eq($$SELECT held, used, "left", units_sold, discount_cents FROM benefit.benefit_usage WHERE code = 'pub'$$,
                  $$VALUES (0, 2, 3, 2::bigint, 400::bigint)$$, 'benefit_usage: 2 used, 2 units sold, 4.00 of discount given');
SELECT is(benefit.confirm('o1')::text, 'ok', 'confirming twice is harmless');
SELECT is(benefit.release('o1')::text, 'already_confirmed', 'a confirmed order cannot be released');
SELECT is(benefit.confirm('nobody')::text, 'unknown_order', 'confirming an unknown order');
SELECT is(pg_temp.used(benefit.hold('o2', ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'box', now() + interval '10 minutes')), 'pub',
          'a second hold on the same performance takes its last unit');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'box'), 'pub'), 'performance_quota_exhausted',
          'the performance has 2 used and 1 held of its 3: refused with its reason');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('p', 'p2', 1)], NULL, 'box')), 'pub',
          'another performance still has room');
SELECT is(benefit.release('o2')::text, 'ok', 'release');
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'pub'$$, $$VALUES (0, 2, 3)$$,
                  'released units come back');
SELECT is(benefit.release('o2')::text, 'ok', 'releasing twice is harmless');
SELECT is(benefit.confirm('o2')::text, 'already_released', 'a released order cannot be confirmed');
SELECT is((benefit.hold('o3', ARRAY[pg_temp.line('p', 'p1', 1), pg_temp.line('p', 'p2', 2)], NULL, 'box',
                        now() + interval '10 minutes')).reason::text, 'ok', 'a hold of the 3 units left');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p2', 1)], NULL, 'box'), 'pub'), 'quota_exhausted',
          'the total quota is used up: refused with its reason');
-- the deadline passes (the test moves it into the past)
UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE order_ref = 'o3';
SELECT is(benefit.expire_holds(), 1, 'expire_holds gives back one hold past its deadline');
SELECT results_eq($$SELECT held, used, "left" FROM benefit.benefit_usage WHERE code = 'pub'$$, $$VALUES (0, 2, 3)$$,
                  'the expired hold''s units are back');
SELECT is(benefit.confirm('o3')::text, 'hold_expired', 'an expired hold is never confirmed');
SELECT is(benefit.expire_holds(), 0, 'nothing left to expire');

-- a single-use code and a promo code in a hold
SELECT is((benefit.hold('o4', ARRAY[pg_temp.line('p', 'p1', 1)], pg_temp.cid('Carol'), 'web', now() + interval '10 minutes',
                        ARRAY[(SELECT code FROM su_codes WHERE n = 2)], 'PROMO10', 'shop')).reason::text, 'ok',
          'a hold with a single-use code and a promo code');
SELECT results_eq($$SELECT state::text, hold_order FROM benefit.single_use_code WHERE code::text = (SELECT code FROM su_codes WHERE n = 2)$$,
                  $$VALUES ('held', 'o4')$$, 'the code is held by the order');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'web', 'shop', NULL,
                                           ARRAY[(SELECT code FROM su_codes WHERE n = 2)]), 'su'),
          'held_by_other_order', 'another buyer cannot use a held code');
SELECT is(benefit.confirm('o4')::text, 'ok', 'confirm the order with the code');
SELECT results_eq($$SELECT state::text, used_order FROM benefit.single_use_code WHERE code::text = (SELECT code FROM su_codes WHERE n = 2)$$,
                  $$VALUES ('used', 'o4')$$, 'the code is used by the order');
SELECT results_eq($$SELECT from_state::text, to_state::text, order_ref FROM benefit.code_history
                     WHERE code::text = (SELECT code FROM su_codes WHERE n = 2) ORDER BY history_id$$,
                  $$VALUES ('issued', 'held', 'o4'), ('held', 'used', 'o4')$$, 'the history has both changes');
SELECT results_eq($$SELECT held, used, "left", discount_cents FROM benefit.promo_usage WHERE code = 'PROMO10'$$,
                  $$VALUES (0, 1, 1, 80::bigint)$$, 'promo_usage: one use, 0.80 of discount (10 % of 8.00)');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], pg_temp.cid('Carol'), 'box', NULL, NULL, NULL, 'PROMO10')),
          'promo_contact_limit_reached', 'the same contact cannot use the promo code twice');
SELECT is((benefit.hold('o5', ARRAY[pg_temp.line('q', NULL, 1)], pg_temp.cid('Alice'), 'box', now() + interval '10 minutes',
                        NULL, 'PROMO10')).reason::text, 'ok', 'another contact uses it');
SELECT is(pg_temp.promo_why(benefit.price_basket(ARRAY[pg_temp.line('q', NULL, 1)], pg_temp.cid('Bob'), 'box', NULL, NULL, NULL, 'PROMO10')),
          'promo_limit_reached', 'its total limit (2) is reached by one use and one hold');
SELECT is((benefit.hold('o7', ARRAY[pg_temp.line('p', 'p2', 2)], pg_temp.cid('Alice'), 'box', now() + interval '10 minutes')).reason::text,
          'ok', 'Alice holds her 2 tickets of the campaign benefit (2 per contact)');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p2', 1)], pg_temp.cid('Alice'), 'box'), 'camp'),
          'contact_quota_exhausted', 'her third ticket: refused because of her own limit, not the total quota');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'web', 'shop', NULL,
                                           ARRAY[(SELECT code FROM su_codes WHERE n = 2)]), 'su'),
          'already_used', 'a used code comes back as already_used');
SELECT is((benefit.hold('o8', ARRAY[pg_temp.line('p', 'p1', 1)], NULL, 'web', now() + interval '10 minutes',
                        ARRAY[(SELECT code FROM su_codes WHERE n = 3)], NULL, 'shop')).reason::text, 'ok', 'a hold with the third code');
SELECT benefit.invalidate_code((SELECT code FROM su_codes WHERE n = 3)::benefit.code, 'lost') \g /dev/null
SELECT is(benefit.confirm('o8')::text, 'invalidated', 'an operator invalidated its code meanwhile: the order is not confirmed');
SELECT throws_ok($$SELECT benefit.hold('o6', ARRAY[pg_temp.line('q', NULL, 1)], NULL, 'box', now() - interval '1 minute')$$,
                 '22023', NULL, 'a hold deadline in the past');
SELECT throws_ok($$SELECT benefit.hold(' ', ARRAY[pg_temp.line('q', NULL, 1)], NULL, 'box', now() + interval '1 minute')$$,
                 '22023', NULL, 'a blank order reference');

-- privileges
CREATE ROLE tap_rt_sales LOGIN IN ROLE benefit_sales;
SELECT pg_temp.line('q', NULL, 1) AS qline \gset
SET ROLE tap_rt_sales;
SELECT is(pg_temp.unit(benefit.price_basket(ARRAY[:'qline'::benefit.basket_line], NULL, 'box')), 1500::bigint,
          'the sales role prices baskets');
SELECT throws_ok($$SELECT * FROM benefit.counter$$, '42501', NULL, 'the sales role cannot read the counters');
SELECT throws_ok($$SELECT * FROM benefit.order_hold$$, '42501', NULL, 'the sales role cannot read the holds');
RESET ROLE;

-- each benefit prices a line with its most specific tariff row that fits (then the lower tariff id)
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'spec', 'spec', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.performance (code, product_id, starts_at)
    SELECT 'spec1', product_id, '2026-12-02 20:00+00' FROM benefit.product WHERE code = 'spec';
INSERT INTO benefit.seat_category (code, name) VALUES ('stalls', 'Stalls');
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels)
    SELECT 'spec', 'spec', season_id, 'public', true FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, performance_id, seat_category_id, audience_id, price_cents)
SELECT pg_temp.bid('spec'), p.product_id,
       CASE WHEN v.perf THEN (SELECT performance_id FROM benefit.performance WHERE code = 'spec1') END,
       CASE WHEN v.seat THEN (SELECT seat_category_id FROM benefit.seat_category WHERE code = 'stalls') END,
       CASE WHEN v.child THEN (SELECT audience_id FROM benefit.audience WHERE code = 'child') END, v.price
  FROM benefit.product p,
       (VALUES (false, false, false, 1500), (false, true, false, 1200), (false, true, true, 900), (true, false, false, 1000))
       v (perf, seat, child, price)
 WHERE p.code = 'spec'
 ORDER BY v.price DESC;
SELECT benefit.go_live(pg_temp.bid('spec')) \g /dev/null
CREATE FUNCTION pg_temp.sline(perf boolean, seat boolean, aud text) RETURNS benefit.basket_line LANGUAGE sql AS $$
    SELECT ROW((SELECT product_id FROM benefit.product WHERE code = 'spec'),
               CASE WHEN perf THEN (SELECT performance_id FROM benefit.performance WHERE code = 'spec1') END,
               CASE WHEN seat THEN (SELECT seat_category_id FROM benefit.seat_category WHERE code = 'stalls') END,
               (SELECT audience_id FROM benefit.audience WHERE code = aud), 1, 2000)::benefit.basket_line $$;
SELECT results_eq(
    $$SELECT l.unit_price_cents
        FROM unnest((benefit.price_basket(ARRAY[pg_temp.sline(false, false, 'adult'), pg_temp.sline(false, true, 'adult'),
                                                pg_temp.sline(false, true, 'child'), pg_temp.sline(true, false, 'adult'),
                                                pg_temp.sline(true, true, 'adult')], NULL, 'box')).lines) l
       ORDER BY l.line_no$$,
    $$VALUES (1500::bigint), (1200), (900), (1000), (1200)$$,
    'a line gets the most specific tariff row that fits it: open row, seat category, seat category and audience, performance; equally specific rows go to the lower tariff id');

SELECT * FROM finish();
ROLLBACK;
