-- tap_strict_input: bad references are refused, not ignored, by every runtime call (an unknown
-- point of sale or one of another channel, an unknown contact, a basket line whose performance,
-- seat category or audience does not exist or whose performance is one of another product); a
-- typed text is read the same way by every entry point (a partner access code first: the
-- 13-character OPERAGRAND264 is a partner code everywhere, never a wrong single-use code); a
-- benefit sold out, or whose per-contact limit the buyer used up, is reported as such by
-- available, and the gift icon lights only for contacts who can still use a benefit.  The fixture
-- (test/fixtures/sale.sql, on the shared catalogue) is built by the DBA (superuser); every call
-- runs as a login granted only benefit_sales.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
\i test/fixtures/logins.sql
\i test/fixtures/sale.sql
SELECT plan(76);
SET ROLE tap_sales;

-- the controls: good references work
SELECT lives_ok($$SELECT * FROM benefit.available(pg_temp.id('Alice'), 'web', NULL, NULL, 'shop')$$,
                'available: a known contact on a web shop of the channel');
SELECT lives_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], pg_temp.id('Alice'), 'web2', 'shop2')$$,
                'price_basket: a web shop of the channel given');

-- an unknown point of sale, or one of another channel: 22023 naming it, in every call
SELECT throws_ok($$SELECT * FROM benefit.available(NULL, 'web', NULL, NULL, 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'available: an unknown point of sale');
SELECT throws_ok($$SELECT * FROM benefit.available(NULL, 'web', NULL, NULL, 'shop2')$$,
                 '22023', 'point of sale "shop2" is not on sales channel "web"', 'available: a point of sale of another channel');
SELECT throws_ok($$SELECT * FROM benefit.available(NULL, 'box-office', NULL, NULL, 'shop')$$,
                 '22023', 'point of sale "shop" is not on sales channel "box-office"', 'available: a point of sale at the box office');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'price_basket: an unknown point of sale');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', 'shop2')$$,
                 '22023', 'point of sale "shop2" is not on sales channel "web"', 'price_basket: a point of sale of another channel');
SELECT throws_ok($$SELECT benefit.hold('bad-pos', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', now() + interval '1 hour',
                                       NULL, NULL, 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'hold: an unknown point of sale');
SELECT throws_ok($$SELECT * FROM benefit.enter_code('OPERAGRAND264', 'web', 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'enter_code: an unknown point of sale');
SELECT throws_ok($$SELECT * FROM benefit.enter_code('OPERAGRAND264', NULL, 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'enter_code: an unknown point of sale, even without a channel');
SELECT throws_ok($$SELECT * FROM benefit.enter_code(pg_temp.code(1), 'web', 'shop2')$$,
                 '22023', 'point of sale "shop2" is not on sales channel "web"', 'enter_code: a point of sale of another channel');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L, NULL, %L, %L, %L)', pg_temp.code(1), 'r-pos-1', 'web', 'nowhere'),
                 '22023', 'point of sale "nowhere" does not exist', 'redeem_code: an unknown point of sale');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L, NULL, %L, NULL, %L)', pg_temp.code(1), 'r-pos-2', 'nowhere'),
                 '22023', 'point of sale "nowhere" does not exist', 'redeem_code: an unknown point of sale, even without a channel');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L, NULL, %L, %L, %L)', pg_temp.code(1), 'r-pos-3', 'web2', 'shop'),
                 '22023', 'point of sale "shop" is not on sales channel "web2"', 'redeem_code: a point of sale of another channel');
SELECT throws_ok($$SELECT benefit.redeem_code('0000-0000-0000-0', NULL, 'r-pos-4', 'web', 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'redeem_code: an unknown point of sale with a code never issued');
SELECT throws_ok(format('SELECT benefit.hold_code(%L, %L, now() + interval %L, %L, %L)', pg_temp.code(1), 'hc-pos', '1 hour', 'web', 'nowhere'),
                 '22023', 'point of sale "nowhere" does not exist', 'hold_code: an unknown point of sale');
SELECT throws_ok(format('SELECT benefit.hold_code(%L, %L, now() + interval %L, %L, %L)', pg_temp.code(1), 'hc-pos', '1 hour', 'box-office', 'shop'),
                 '22023', 'point of sale "shop" is not on sales channel "box-office"', 'hold_code: a point of sale at the box office');
SELECT throws_ok($$SELECT benefit.hold_code('0000-0000-0000-0', 'hc-pos', now() + interval '1 hour', 'web', 'nowhere')$$,
                 '22023', 'point of sale "nowhere" does not exist', 'hold_code: an unknown point of sale with a code never issued');

-- an unknown contact: P0002 naming the id, never an anonymous buyer
SELECT throws_ok($$SELECT * FROM benefit.available(999999, 'box-office')$$,
                 'P0002', 'contact 999999 does not exist', 'available: an unknown contact');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], 999999, 'box-office')$$,
                 'P0002', 'contact 999999 does not exist', 'price_basket: an unknown contact');
SELECT throws_ok($$SELECT benefit.hold('ghost', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], 999999, 'box-office', now() + interval '1 hour')$$,
                 'P0002', 'contact 999999 does not exist', 'hold: an unknown contact');
SELECT is(benefit.confirm('ghost')::text, 'unknown_order', 'and nothing was held');
SELECT throws_ok($$SELECT * FROM benefit.enter_code('OPERAGRAND264', 'box-office', NULL, 999999)$$,
                 'P0002', 'contact 999999 does not exist', 'enter_code: an unknown contact');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L, 999999, %L, %L)', pg_temp.code(1), 'r-ghost', 'box-office'),
                 'P0002', 'contact 999999 does not exist', 'redeem_code: an unknown contact with an issued code (the fast path)');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L, 999999, %L)', pg_temp.code(1), 'r-ghost'),
                 'P0002', 'contact 999999 does not exist', 'redeem_code: the same without a channel');
SELECT throws_ok($$SELECT benefit.redeem_code('0000-0000-0000-0', 999999, 'r-ghost')$$,
                 'P0002', 'contact 999999 does not exist', 'redeem_code: an unknown contact with a code never issued');
SELECT is((SELECT reason::text FROM benefit.enter_code(pg_temp.code(1), 'web', 'shop')), 'ok', 'and the code was not used');
-- an order reference: 1 to 200 characters, not blank, before anything is read
SELECT throws_ok(format('SELECT benefit.hold_code(%L, %L, now() + interval %L)', pg_temp.code(1), ' ', '1 hour'),
                 '22023', 'order_ref must be 1 to 200 characters, not blank', 'hold_code: a blank order reference');
SELECT throws_ok(format('SELECT benefit.hold_code(%L, %L, now() + interval %L)', '0000-0000-0000-0', repeat('x', 201), '1 hour'),
                 '22023', 'order_ref must be 1 to 200 characters, not blank', 'hold_code: an order reference over 200 characters, even for an unknown code');
SELECT throws_ok(format('SELECT benefit.release_code(%L, %L)', pg_temp.code(1), ''),
                 '22023', 'order_ref must be 1 to 200 characters, not blank', 'release_code: an empty order reference');
-- the same rule in every call (one function, src/sale.c): characters, not bytes; tabs and line breaks are blank
SELECT throws_ok(format('SELECT benefit.hold(%L, ARRAY[pg_temp.line(%L, %L, 1)], NULL, %L, now() + interval %L)',
                        E'\t\n', 'cyrano', 'cyrano-1', 'box-office', '1 hour'),
                 '22023', 'order_ref must be 1 to 200 characters, not blank', 'hold: an order reference of a tab and a line break');
SELECT is((benefit.redeem_code('0000-0000-0000-0', NULL, repeat('é', 200))).reason::text, 'unknown_code',
          'redeem_code: 200 characters of two bytes each are an order reference, as in hold');
SELECT throws_ok(format('SELECT benefit.redeem_code(%L, NULL, %L)', '0000-0000-0000-0', repeat('é', 201)),
                 '22023', 'order_ref must be 1 to 200 characters, not blank', 'redeem_code: 201 characters are not');
SELECT throws_ok(format('SELECT benefit.hold_code(%L, %L, now() + interval %L, contact_id => 999999)', pg_temp.code(1), 'hc-ghost', '1 hour'),
                 'P0002', 'contact 999999 does not exist', 'hold_code: an unknown contact');
SELECT throws_ok(format('SELECT benefit.release_code(%L, %L, 999999)', pg_temp.code(1), 'hc-ghost'),
                 'P0002', 'contact 999999 does not exist', 'release_code: an unknown contact');
SELECT throws_ok(format('SELECT benefit.record_ticket(%L, %L, %s, contact_id => 999999)', 'T-ghost', 'r-ghost',
                        (SELECT benefit_id FROM benefit.available(NULL, 'box-office') LIMIT 1)),
                 'P0002', 'contact 999999 does not exist', 'record_ticket: an unknown contact');
SELECT results_eq(
    $$SELECT contact_id, benefits FROM benefit.contacts_with_benefits(
          ARRAY[pg_temp.id('Alice'), 999999, NULL, pg_temp.id('Bob')], 'box-office')$$,
    $$VALUES (pg_temp.id('Alice'), 1), (pg_temp.id('Bob'), 1)$$,
    'contacts_with_benefits: an id of no contact on the screen is skipped, not refused (no gift for it)');
SELECT throws_ok($$SELECT * FROM benefit.contacts_with_benefits(ARRAY[1], 'mars')$$,
                 '22023', 'sales channel "mars" does not exist', 'contacts_with_benefits: an unknown channel');

-- a basket line's references: refused with the line's number
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1), pg_temp.line('cyrano', 'mouette-1', 1)], NULL, 'box-office')$$,
                 '22023', format('line 2: performance %s is not a performance of product %s', pg_temp.id('mouette-1'),
                                 pg_temp.id('cyrano')),
                 'price_basket: a line whose performance is one of another product');
SELECT throws_ok($$SELECT benefit.hold('other-perf', ARRAY[pg_temp.line('mouette', 'cyrano-1', 2)], NULL, 'box-office', now() + interval '1 hour')$$,
                 '22023', format('line 1: performance %s is not a performance of product %s', pg_temp.id('cyrano-1'),
                                 pg_temp.id('mouette')),
                 'hold: the same');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[ROW(pg_temp.id('cyrano'), 999999, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office')$$,
                 'P0002', 'line 1: performance 999999 does not exist', 'price_basket: an unknown performance');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[ROW(pg_temp.id('cyrano'), NULL, 999999, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office')$$,
                 'P0002', 'line 1: seat category 999999 does not exist', 'price_basket: an unknown seat category');
SELECT throws_ok($$SELECT benefit.price_basket(ARRAY[ROW(pg_temp.id('cyrano'), NULL, NULL, 999999, 1, 100)::benefit.basket_line], NULL, 'box-office')$$,
                 'P0002', 'line 1: audience 999999 does not exist', 'price_basket: an unknown audience');
SELECT is((benefit.price_basket(ARRAY[ROW(pg_temp.id('cyrano'), pg_temp.id('cyrano-1'), pg_temp.id('stalls'),
                                          pg_temp.id('adult'), 1, NULL)::benefit.basket_line], NULL, 'box-office')).total_cents,
          3600::bigint, 'a line with all its references known is priced (40.00, 10 % off)');

-- OPERAGRAND264: a partner access code that also reads as a well-formed single-use code
SELECT ok(benefit.is_valid_code('OPERAGRAND264'), 'OPERAGRAND264 is well-formed as a single-use code (its last character checks)');
RESET ROLE;
SET benefit.throttle_failures = 1;      -- one wrong entry throttles (a superuser setting)
SET ROLE tap_sales;
SELECT results_eq($$SELECT kind, reason::text, benefit_code FROM benefit.enter_code('OPERAGRAND264', 'box-office', NULL, NULL, 'k-opera')$$,
                  $$VALUES ('partner', 'ok', 'opera')$$, 'enter_code: it is the partner code');
SELECT results_eq($$SELECT kind, reason::text, benefit_code FROM benefit.enter_code(' operagrand264 ', 'box-office', NULL, NULL, 'k-opera')$$,
                  $$VALUES ('partner', 'ok', 'opera')$$,
                  'enter_code: in any case, trimmed, and the first entry was not counted as a wrong code (not throttled)');
SELECT results_eq($$SELECT kind, reason::text, benefit_code FROM benefit.enter_code('OPERAGRAND264', 'box-office', NULL, pg_temp.id('Alice'))$$,
                  $$VALUES ('partner', 'ok', 'opera')$$, 'enter_code: for a contact too');
SELECT results_eq($$SELECT kind, reason::text FROM benefit.enter_code('OPERAGRAND264', 'box-office', NULL, pg_temp.id('Alice'))$$,
                  $$VALUES ('partner', 'ok')$$, 'enter_code: the contact is not throttled either');
RESET ROLE;
RESET benefit.throttle_failures;
SET ROLE tap_sales;
SELECT results_eq($$SELECT benefit_code, entered_code, reason::text FROM benefit.available(NULL, 'box-office', NULL, ARRAY['OPERAGRAND264'], NULL, 'k-opera2')
                    WHERE entered_code IS NOT NULL$$,
                  $$VALUES ('opera', 'OPERAGRAND264', 'ok')$$, 'available: it unlocks the partner benefit, and is no unknown code');
SELECT is((SELECT (l).benefit_code FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('mouette', 'mouette-1', 1)], NULL, 'box-office', NULL, NULL,
                                                                  ARRAY['operagrand264'])).lines) l), 'opera',
          'price_basket: it prices the line with the partner benefit');
SELECT is((SELECT count(*)::int FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('mouette', 'mouette-1', 1)], NULL, 'box-office', NULL, NULL,
                                                               ARRAY['OPERAGRAND264'])).refusals)), 0,
          'price_basket: and refuses nothing');
SELECT results_eq($$SELECT h.reason::text, (h.lines[1]).benefit_code, (h.lines[1]).unit_price_cents
                      FROM benefit.hold('opera-1', ARRAY[pg_temp.line('mouette', 'mouette-1', 2)], pg_temp.id('Carol'), 'box-office',
                                        now() + interval '1 hour', ARRAY['OPERAGRAND264']) h$$,
                  $$VALUES ('ok', 'opera', 1750::bigint)$$, 'hold: it holds the basket with the partner benefit');
SELECT results_eq($$SELECT kind, reason::text, benefit_code FROM benefit.enter_code(pg_temp.code(2), 'web', 'shop')$$,
                  $$VALUES ('single_use', 'ok', 'su')$$, 'a single-use code is still read as one');
SELECT results_eq($$SELECT kind, reason::text FROM benefit.enter_code('0000-0000-0000-0', 'box-office')$$,
                  $$VALUES ('single_use', 'unknown_code')$$, 'a well-formed code that is no partner code and was never issued');
SELECT results_eq($$SELECT kind, reason::text FROM benefit.enter_code('OPERAGRAND', 'box-office')$$,
                  $$VALUES ('unknown', 'unknown_code')$$, 'a text that is neither');

-- sold out, or the buyer's own limit used up: reported as such, and the gift icon goes off
SELECT results_eq($$SELECT benefit_code, reason::text, quota_left FROM benefit.available(NULL, 'box-office') ORDER BY 1$$,
                  $$VALUES ('pub', 'ok', 3)$$, 'available: pub has 3 units left');
SELECT results_eq($$SELECT contact_id, benefits FROM benefit.contacts_with_benefits(
                      ARRAY[pg_temp.id('Alice'), pg_temp.id('Bob'), pg_temp.id('Carol')], 'box-office')$$,
                  $$VALUES (pg_temp.id('Alice'), 1), (pg_temp.id('Bob'), 1), (pg_temp.id('Carol'), 1)$$,
                  'the gift icon lights for Alice and Carol (campaign) and Bob (gold)');
SELECT is((SELECT (h.lines[1]).benefit_code FROM benefit.hold('sell-out', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 3)], NULL, 'box-office',
                                                              now() + interval '1 hour') h), 'pub',
          'an anonymous buyer holds the 3 units of pub');
SELECT results_eq($$SELECT benefit_code, reason::text, quota_left FROM benefit.available(NULL, 'box-office')$$,
                  $$VALUES ('pub', 'quota_exhausted', 0)$$, 'available: pub is reported sold out, not usable');
SELECT is((SELECT string_agg(r.reason::text, ',') FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'box-office')).refusals) r
            WHERE r.benefit_code = 'pub'), 'quota_exhausted', 'price_basket: the same reason');
SELECT is((SELECT (h.lines[1]).benefit_code FROM benefit.hold('alice-1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], pg_temp.id('Alice'), 'box-office',
                                                              now() + interval '1 hour') h), 'camp',
          'Alice holds her one unit of the campaign benefit');
SELECT results_eq($$SELECT benefit_code, reason::text, quota_left FROM benefit.available(pg_temp.id('Alice'), 'box-office') ORDER BY 1$$,
                  $$VALUES ('camp', 'contact_quota_exhausted', 0), ('pub', 'quota_exhausted', 0)$$,
                  'available: her own limit is used up, and pub is sold out');
SELECT results_eq($$SELECT benefit_code, reason::text, quota_left FROM benefit.available(pg_temp.id('Carol'), 'box-office')
                     WHERE benefit_code = 'camp'$$,
                  $$VALUES ('camp', 'ok', 1)$$, 'Carol''s own limit is hers: she can still use it');
SELECT is((SELECT (h.lines[1]).benefit_code FROM benefit.hold('bob-1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], pg_temp.id('Bob'), 'box-office',
                                                              now() + interval '1 hour') h), 'gold',
          'Bob holds the one unit of gold');
SELECT results_eq($$SELECT benefit_code, reason::text, quota_left FROM benefit.available(pg_temp.id('Bob'), 'box-office') ORDER BY 1$$,
                  $$VALUES ('gold', 'quota_exhausted', 0), ('pub', 'quota_exhausted', 0)$$, 'available: gold is sold out for Bob');
SELECT results_eq($$SELECT contact_id, benefits FROM benefit.contacts_with_benefits(
                      ARRAY[pg_temp.id('Alice'), pg_temp.id('Bob'), pg_temp.id('Carol')], 'box-office')$$,
                  $$VALUES (pg_temp.id('Carol'), 1)$$,
                  'the gift icon is off for Alice (her limit used) and Bob (sold out), on for Carol');
SELECT is(benefit.release('bob-1')::text, 'ok', 'Bob''s hold is released');
SELECT results_eq($$SELECT contact_id, benefits FROM benefit.contacts_with_benefits(
                      ARRAY[pg_temp.id('Alice'), pg_temp.id('Bob'), pg_temp.id('Carol')], 'box-office')$$,
                  $$VALUES (pg_temp.id('Bob'), 1), (pg_temp.id('Carol'), 1)$$,
                  'the unit is back: the icon lights for Bob again');
SELECT results_eq($$SELECT benefit_code, reason::text, quota_left FROM benefit.available(pg_temp.id('Bob'), 'box-office')
                     WHERE benefit_code = 'gold'$$,
                  $$VALUES ('gold', 'ok', 1)$$, 'available: gold is usable again');
SELECT is(benefit.confirm('alice-1')::text, 'ok', 'Alice pays');
SELECT results_eq($$SELECT benefit_code, reason::text FROM benefit.available(pg_temp.id('Alice'), 'box-office') WHERE benefit_code = 'camp'$$,
                  $$VALUES ('camp', 'contact_quota_exhausted')$$, 'a confirmed use counts against her limit too');
SELECT is((SELECT string_agg(r.reason::text, ',') FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)],
                                                                pg_temp.id('Alice'), 'box-office')).refusals) r
            WHERE r.benefit_code = 'camp'), 'contact_quota_exhausted', 'price_basket: the same reason');
SELECT results_eq($$SELECT benefit_code, reason::text FROM benefit.available(pg_temp.id('Alice'), 'web', NULL, NULL, 'shop')
                     ORDER BY 1$$,
                  $$VALUES ('camp', 'contact_quota_exhausted'), ('pub', 'quota_exhausted')$$,
                  'on the web shop the same (a benefit not sold on the channel would say wrong_channel and not be listed)');
SELECT results_eq($$SELECT contact_id FROM benefit.contacts_with_benefits(ARRAY[pg_temp.id('Alice')], 'box-office', now() + interval '1 day')$$,
                  $$SELECT NULL::bigint WHERE false$$, 'the icon stays off for Alice');
SELECT is((SELECT count(*)::int FROM benefit.available(NULL, 'box-office') WHERE reason = 'ok'), 0,
          'an anonymous buyer has no usable benefit left on the box office');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
