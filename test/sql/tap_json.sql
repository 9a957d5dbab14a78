-- tap_json: the jsonb form of every runtime call a web shop makes (price_basket, available,
-- enter_code, hold, confirm, release, redeem_code, hold_code, release_code) answers what the typed
-- call answers; its keys are the typed call's argument names, and an unknown key (at the top or
-- in a basket line) is an error naming it, never ignored; a plain string literal still calls the
-- typed form.  The fixture (test/fixtures/sale.sql, on the shared catalogue) is built by the DBA
-- (superuser); every call runs as a login granted only benefit_sales (or only benefit_report, to
-- be refused).  The malformed inputs, one per line, are in the regress file strict_input.
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
SELECT plan(44);

-- every key of a jsonb form is an argument of its typed form, and the parser can carry it
SELECT is((SELECT string_agg(DISTINCT a.argname || ' of ' || p.proname, ', ')
             FROM pg_proc p, unnest(p.proargnames, p.proargmodes) a(argname, argmode)
            WHERE p.pronamespace = 'benefit'::regnamespace
              AND p.proname IN (SELECT j.proname FROM pg_proc j WHERE j.pronamespace = 'benefit'::regnamespace
                                   AND j.pronargs = 1 AND j.proargtypes[0] = 'jsonb'::regtype)
              AND NOT (p.pronargs = 1 AND p.proargtypes[0] = 'jsonb'::regtype)
              AND (a.argmode IS NULL OR a.argmode IN ('i', 'b'))
              AND a.argname NOT IN (SELECT attname FROM pg_attribute WHERE attrelid = 'benefit_internal.call_args'::regclass)),
          NULL, 'every argument of a typed call with a jsonb form is a field of benefit_internal.call_args');
SELECT is((SELECT string_agg(j.proname, ', ' ORDER BY j.proname) FROM pg_proc j
            WHERE j.pronamespace = 'benefit'::regnamespace AND j.pronargs = 1 AND j.proargtypes[0] = 'jsonb'::regtype),
          'available, confirm, enter_code, hold, hold_code, price_basket, redeem_code, refund, release, release_code',
          'the jsonb forms');

SET ROLE tap_sales;

-- a plain string literal calls the typed form: text wins over jsonb
SELECT is(pg_typeof(benefit.confirm('nothing'))::text, 'benefit.reason', 'confirm(''ref'') calls confirm(text)');
SELECT is(benefit.confirm('{"order_ref": "x"}')::text, 'unknown_order',
          'also when the literal looks like JSON: it is an order reference');
SELECT is(pg_typeof(benefit.release('nothing'))::text, 'benefit.reason', 'release(''ref'') calls release(text)');
SELECT results_eq($$SELECT kind, reason::text FROM benefit.enter_code('OPERAGRAND264')$$, $$VALUES ('partner', 'ok')$$,
                  'enter_code(''text'') calls enter_code(text, ...)');
SELECT is(benefit.confirm('{"order_ref": "x"}'::jsonb), '{"reason": "unknown_order"}'::jsonb,
          'a jsonb value calls the jsonb form');
SELECT is((SELECT kind FROM benefit.enter_code('{"code": "OPERAGRAND264"}')), 'unknown',
          'so JSON text for enter_code, confirm or release must be passed as jsonb ($1::jsonb), or it is read as a code');

-- the same answers as the typed calls
SELECT is(benefit.price_basket(jsonb_build_object(
              'lines', jsonb_build_array(
                  jsonb_build_object('product_id', pg_temp.id('cyrano'), 'performance_id', pg_temp.id('cyrano-1'),
                                     'seat_category_id', pg_temp.id('stalls'), 'audience_id', pg_temp.id('adult'), 'quantity', 2),
                  jsonb_build_object('product_id', pg_temp.id('mouette'), 'quantity', 1, 'base_price_cents', 3000,
                                     'seat_category_id', NULL)),
              'contact_id', pg_temp.id('Alice'), 'channel', 'web', 'point_of_sale', 'shop',
              'codes', jsonb_build_array('OPERAGRAND264', pg_temp.code(1), 'NOPE'), 'client_key', NULL)),
          to_jsonb(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 2),
                                              ROW(pg_temp.id('mouette'), NULL, NULL, NULL, 1, 3000)::benefit.basket_line],
                                        pg_temp.id('Alice'), 'web', 'shop', NULL,
                                        ARRAY['OPERAGRAND264', pg_temp.code(1), 'NOPE'])),
          'price_basket(jsonb) answers what price_basket answers');
SELECT is(benefit.available(jsonb_build_object('contact_id', pg_temp.id('Bob'), 'channel', 'web',
                                               'point_of_sale', 'shop', 'codes', jsonb_build_array(pg_temp.code(1), 'NOPE'))),
          (SELECT jsonb_agg(to_jsonb(a) - 'n' ORDER BY n)
             FROM benefit.available(pg_temp.id('Bob'), 'web', NULL, ARRAY[pg_temp.code(1), 'NOPE'], 'shop')
                  WITH ORDINALITY a(benefit_id, benefit_code, name, target_type, entered_code, reason, valid_until, quota_left,
                                    tariffs, n)),
          'available(jsonb) answers an array of the rows available answers, in its order');
SELECT is(benefit.enter_code(jsonb_build_object('code', ' operagrand264 ', 'channel', 'box-office')),
          (SELECT to_jsonb(e) FROM benefit.enter_code(' operagrand264 ', 'box-office') e),
          'enter_code(jsonb) answers what enter_code answers');
SELECT is(benefit.enter_code('{"code": "OPERAGRAND264"}'::jsonb) ->> 'kind', 'partner', 'enter_code(jsonb): the partner code');

RESET ROLE;
SAVEPOINT nothing_live;
SELECT benefit.suspend(benefit_id) FROM benefit.benefit ORDER BY benefit_id \g /dev/null
SET ROLE tap_sales;
SELECT is(benefit.available('{"channel": "box-office"}'), '[]'::jsonb, 'available(jsonb): an empty array when nothing is usable');
RESET ROLE;
ROLLBACK TO SAVEPOINT nothing_live;
SET ROLE tap_sales;

-- the two-phase purchase in JSON
CREATE TEMP TABLE answer (n int PRIMARY KEY, v jsonb);
INSERT INTO answer SELECT 1, benefit.hold(jsonb_build_object(
    'order_ref', 'j-1', 'lines', jsonb_build_array(jsonb_build_object('product_id', pg_temp.id('cyrano'), 'seat_category_id', pg_temp.id('stalls'),
                                                                      'audience_id', pg_temp.id('adult'), 'quantity', 1)),
    'contact_id', pg_temp.id('Carol'), 'channel', 'web', 'point_of_sale', 'shop',
    'held_until', now() + interval '1 hour', 'codes', jsonb_build_array(pg_temp.code(2)), 'promo_code', NULL));
SELECT is((SELECT v ->> 'reason' FROM answer WHERE n = 1), 'ok', 'hold(jsonb) holds');
SELECT is((SELECT v ->> 'order_ref' FROM answer WHERE n = 1), 'j-1', 'hold(jsonb): the order reference');
SELECT is((SELECT (v ->> 'held_until')::timestamptz FROM answer WHERE n = 1), now() + interval '1 hour', 'hold(jsonb): the deadline');
SELECT results_eq($$SELECT v #>> '{lines,0,benefit_code}', v #>> '{lines,0,total_cents}' FROM answer WHERE n = 1$$,
                  $$VALUES ('su', '800')$$, 'hold(jsonb): the line priced with the single-use code');
SELECT is(benefit.confirm('{"order_ref": "j-1"}'::jsonb), '{"reason": "ok"}'::jsonb, 'confirm(jsonb)');
SELECT is(benefit.release('{"order_ref": "j-1"}'::jsonb), '{"reason": "already_confirmed"}'::jsonb, 'release(jsonb) of a paid order');
SELECT throws_ok($$SELECT benefit.refund('{"order_ref": "j-1", "refund_ref": "jr-1", "lines": [{"line": 1, "quantity": 1}]}'::jsonb)$$,
                 '22023', 'unknown key "line" in line 1', 'refund(jsonb): a refund line takes line_no and quantity');
SELECT throws_ok($$SELECT benefit.refund('{"order_ref": "j-1", "refund_ref": "jr-1", "lines": [{"line_no": "1", "quantity": 1}]}'::jsonb)$$,
                 '22023', 'key "line_no" of line 1 must be an integer, not "1"', 'refund(jsonb): a line number is an integer');
SELECT is(benefit.refund('{"order_ref": "j-1", "refund_ref": "jr-1", "lines": [{"line_no": 1, "quantity": 1}]}'::jsonb),
          '{"reason": "ok"}'::jsonb, 'refund(jsonb): one unit of line 1');
SELECT is(benefit.refund('{"order_ref": "j-1", "refund_ref": "jr-1", "lines": [{"line_no": 1, "quantity": 1}]}'::jsonb),
          '{"reason": "ok"}'::jsonb, 'refund(jsonb): the same refund again changes nothing');
SELECT is(benefit.refund('{"order_ref": "j-1", "refund_ref": "jr-2"}'::jsonb), '{"reason": "not_confirmed"}'::jsonb,
          'refund(jsonb): no lines, and nothing left to refund (the order was one unit, wholly refunded)');
INSERT INTO answer SELECT 2, benefit.hold(jsonb_build_object(
    'order_ref', 'j-2', 'lines', jsonb_build_array(jsonb_build_object('product_id', pg_temp.id('mouette'), 'quantity', 2)),
    'channel', 'box-office', 'held_until', now() + interval '10 minutes', 'codes', jsonb_build_array('OperaGrand264')));
SELECT results_eq($$SELECT v ->> 'reason', v #>> '{lines,0,benefit_code}' FROM answer WHERE n = 2$$,
                  $$VALUES ('ok', 'opera')$$, 'hold(jsonb) with the partner code');
SELECT is(benefit.release('{"order_ref": "j-2"}'::jsonb), '{"reason": "ok"}'::jsonb, 'release(jsonb)');
SELECT results_eq($$SELECT r ->> 'reason', r ->> 'code', r ->> 'benefit_code', (r ->> 'used_at') IS NOT NULL
                      FROM benefit.redeem_code(jsonb_build_object('code', lower(pg_temp.code(3)), 'contact_id', pg_temp.id('Bob'),
                                                                  'order_ref', 'j-3', 'channel', 'web', 'point_of_sale', 'shop')) r$$,
                  $$VALUES ('ok', pg_temp.code(3), 'su', true)$$, 'redeem_code(jsonb) uses a code (in any case)');
SELECT is(benefit.redeem_code(jsonb_build_object('code', pg_temp.code(3), 'order_ref', 'j-4')) ->> 'reason', 'already_used',
          'redeem_code(jsonb): a used code');
SELECT is(benefit.hold_code(jsonb_build_object('code', pg_temp.code(1), 'order_ref', 'j-5', 'hold_until', now() + interval '1 hour',
                                               'channel', 'web', 'point_of_sale', 'shop')),
          '{"reason": "ok"}'::jsonb, 'hold_code(jsonb)');
SELECT is(benefit.release_code(jsonb_build_object('code', pg_temp.code(1), 'order_ref', 'j-5')), '{"reason": "ok"}'::jsonb,
          'release_code(jsonb)');

-- an unknown key is an error naming it, never ignored (a camelCase contact id used to price the
-- basket anonymously, without the promo code)
SELECT throws_ok(format('SELECT benefit.price_basket(%L)', jsonb_build_object(
                     'lines', jsonb_build_array(jsonb_build_object('product_id', pg_temp.id('cyrano'), 'quantity', 1)),
                     'channel', 'box-office', 'contactId', pg_temp.id('Alice'))),
                 '22023', 'unknown key "contactId"', 'price_basket(jsonb): contactId');
SELECT throws_ok(format('SELECT benefit.price_basket(%L)', jsonb_build_object(
                     'lines', jsonb_build_array(jsonb_build_object('product_id', pg_temp.id('cyrano'), 'quantity', 1)),
                     'channel', 'box-office', 'promoCode', 'WELCOME')),
                 '22023', 'unknown key "promoCode"', 'price_basket(jsonb): promoCode');
SELECT throws_ok(format('SELECT benefit.price_basket(%L)', jsonb_build_object(
                     'lines', jsonb_build_array(jsonb_build_object('product_id', pg_temp.id('cyrano'), 'quantity', 1),
                                                jsonb_build_object('productId', pg_temp.id('mouette'), 'quantity', 1)),
                     'channel', 'box-office')),
                 '22023', 'unknown key "productId" in line 2', 'price_basket(jsonb): a key of a basket line');
SELECT throws_ok($$SELECT benefit.hold('{"order_ref": "j-9", "lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office",
                                        "heldUntil": "2999-01-01T00:00:00Z"}')$$,
                 '22023', 'unknown key "heldUntil"', 'hold(jsonb): heldUntil');
SELECT throws_ok($$SELECT benefit.hold_code('{"code": "0000-0000-0000-0", "order_ref": "j-9", "held_until": "2999-01-01T00:00:00Z"}')$$,
                 '22023', 'unknown key "held_until"', 'hold_code(jsonb): its deadline is hold_until, as the typed call names it');
SELECT throws_ok($$SELECT benefit.available('{"channel": "box-office", "contact": 1}')$$,
                 '22023', 'unknown key "contact"', 'available(jsonb): contact');
SELECT throws_ok($$SELECT benefit.enter_code('{"text": "OPERAGRAND264"}'::jsonb)$$,
                 '22023', 'unknown key "text"', 'enter_code(jsonb): text');
SELECT throws_ok($$SELECT benefit.redeem_code('{"code": "0000-0000-0000-0", "orderRef": "j-9"}')$$,
                 '22023', 'unknown key "orderRef"', 'redeem_code(jsonb): orderRef');
SELECT throws_ok($$SELECT benefit.confirm('{"order": "j-1"}'::jsonb)$$, '22023', 'unknown key "order"', 'confirm(jsonb): order');
SELECT throws_ok($$SELECT benefit.release('{"order_ref": "j-1", "reason": "cancelled"}'::jsonb)$$,
                 '22023', 'unknown key "reason"', 'release(jsonb): reason');

-- bad references through JSON: the typed call's errors
SELECT throws_ok($$SELECT benefit.hold('{"order_ref": "j-9", "lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office",
                                        "contact_id": 999999, "held_until": "2999-01-01T00:00:00Z"}')$$,
                 '22023', 'held_until must be in the next 7 days', 'hold(jsonb): the typed call''s checks, in its order');
SELECT throws_ok(format('SELECT benefit.hold(%L)', jsonb_build_object(
                     'order_ref', 'j-9', 'lines', jsonb_build_array(jsonb_build_object('product_id', pg_temp.id('mouette'), 'quantity', 1)),
                     'channel', 'box-office', 'contact_id', 999999, 'held_until', now() + interval '1 hour')),
                 'P0002', 'contact 999999 does not exist', 'hold(jsonb): an unknown contact');

-- only the sales (and admin) roles
RESET ROLE;
SET ROLE tap_report;
SELECT throws_ok($$SELECT benefit.hold('{}'::jsonb)$$, '42501', NULL, 'the report role cannot hold');
SELECT throws_ok($$SELECT benefit_internal.parse_call('{}', 'hold')$$, '42501', NULL, 'nor call the JSON reader');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
