-- strict_input: every malformed input of a runtime call, one per line, as a sales login: JSON
-- that is not what the jsonb forms read (an unknown key, at the top or in a basket line; a wrong
-- JSON type; a timestamp that is none; not an object; NULL), and references that do not exist
-- (a channel, a point of sale or one of another channel, a contact, a basket line's performance,
-- seat category or audience, a performance of another product).  try() prints "SQLSTATE
-- message", and the DETAIL of an unknown key (the keys the call takes).  The fixture
-- (test/fixtures/sale.sql, on the shared catalogue) is built by the DBA (superuser).
\set VERBOSITY terse
\pset format unaligned
\pset tuples_only on
BEGIN;
CREATE EXTENSION benefit;
\set ECHO none
\i test/fixtures/logins.sql
\i test/fixtures/sale.sql
\set ECHO all

-- the ids this file writes as numbers, from the catalogue: products cyrano 1 and mouette 2;
-- performance 1 is one of cyrano's, performance 3 is mouette-1
SELECT (pg_temp.id('cyrano'), pg_temp.id('mouette'), pg_temp.id('mouette-1')) = (1, 2, 3)
   AND (SELECT product_id FROM benefit.performance WHERE performance_id = 1) = pg_temp.id('cyrano') AS ids_as_written;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || msg || CASE WHEN msg LIKE 'unknown key%' THEN ' / ' || det ELSE '' END;
END $$;
SET ROLE tap_sales;

-- JSON: not an object
SELECT pg_temp.try($$SELECT benefit.price_basket(NULL::jsonb)$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('[1]')$$);
SELECT pg_temp.try($$SELECT benefit.hold('"o-1"')$$);
SELECT pg_temp.try($$SELECT benefit.confirm('"o-1"'::jsonb)$$);
SELECT pg_temp.try($$SELECT benefit.available('42')$$);
-- JSON: unknown keys
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office", "contactId": 1}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office", "promoCode": "X"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "qty": 1}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1}, {"product_id": 2, "quantity": 1, "price": 100}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold('{"orderRef": "o-1"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold('{"order_ref": "o-1", "hold_until": "2030-01-01T00:00:00Z"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold_code('{"code": "0000-0000-0000-0", "order_ref": "o-1", "held_until": "2030-01-01T00:00:00Z"}')$$);
SELECT pg_temp.try($$SELECT benefit.confirm('{"orderRef": "o-1"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT benefit.release('{"order_ref": "o-1", "why": "cancelled"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('{"code": "0000-0000-0000-0", "order_ref": "o-1", "contact": 1}')$$);
SELECT pg_temp.try($$SELECT benefit.release_code('{"code": "0000-0000-0000-0", "order": "o-1"}')$$);
SELECT pg_temp.try($$SELECT benefit.enter_code('{"code": "OPERAGRAND264", "shop": "shop"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "Channel": "web"}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "": 1}')$$);
-- JSON: wrong types
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "contact_id": "1"}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "contact_id": 1.5}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "contact_id": 1.0}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "contact_id": 99999999999999999999}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "contact_id": true}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": 7}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": ["box-office"]}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "codes": "OPERAGRAND264"}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "codes": ["OPERAGRAND264", 7]}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "codes": ["OPERAGRAND264", null]}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "at": "yesterday-ish"}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "at": 1700000000}')$$);
SELECT pg_temp.try($$SELECT benefit.hold('{"order_ref": 42, "lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold('{"order_ref": "o-1", "lines": {"product_id": 1, "quantity": 1}, "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold('{"order_ref": "o-1", "lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office", "held_until": "in an hour"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": "p", "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [1], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1}, [2, 1]], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": "1", "quantity": 1}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": "2"}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 3000000000}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1, "base_price_cents": 12.5}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1}], "channel": "box-office", "promo_code": 10}')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('{"code": 12345, "order_ref": "o-1"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold_code('{"code": "0000-0000-0000-0", "order_ref": "o-1", "hold_until": "soon"}')$$);
-- JSON: well-formed, but what the typed call refuses
SELECT pg_temp.try($$SELECT benefit.price_basket('{"channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 1, "quantity": 1}]}')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('{"code": "ZZZZ-ZZZZ-ZZZZ-S", "order_ref": "o-1"}')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('{"order_ref": "o-1"}')$$);
SELECT pg_temp.try($$SELECT benefit.release_code('{"order_ref": "o-1"}')$$);

-- references that do not exist, typed and JSON
SELECT pg_temp.try($$SELECT * FROM benefit.available(NULL, 'mars')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.available(NULL, NULL)$$);
SELECT pg_temp.try($$SELECT * FROM benefit.available(NULL, 'web', NULL, NULL, 'nowhere')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.available(NULL, 'web', NULL, NULL, 'shop2')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.available(NULL, 'box-office', NULL, NULL, 'shop')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.available(999999, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "web", "point_of_sale": "nowhere"}')$$);
SELECT pg_temp.try($$SELECT benefit.available('{"channel": "box-office", "contact_id": 999999}')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.contacts_with_benefits(ARRAY[1, 999999], 'mars')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.enter_code('OPERAGRAND264', 'mars')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.enter_code('OPERAGRAND264', 'web', 'shop2')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.enter_code('OPERAGRAND264', NULL, 'nowhere')$$);
SELECT pg_temp.try($$SELECT * FROM benefit.enter_code('OPERAGRAND264', 'box-office', NULL, 999999)$$);
SELECT pg_temp.try($$SELECT benefit.enter_code('{"code": "OPERAGRAND264", "contact_id": 999999}'::jsonb)$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('0000-0000-0000-0', NULL, 'o-1', 'mars')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('0000-0000-0000-0', NULL, 'o-1', 'web', 'nowhere')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('0000-0000-0000-0', NULL, 'o-1', 'web2', 'shop')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('0000-0000-0000-0', 999999, 'o-1')$$);
SELECT pg_temp.try($$SELECT benefit.redeem_code('{"code": "0000-0000-0000-0", "order_ref": "o-1", "contact_id": 999999}')$$);
SELECT pg_temp.try($$SELECT benefit.hold_code('0000-0000-0000-0', 'o-1', now() + interval '1 hour', 'mars')$$);
SELECT pg_temp.try($$SELECT benefit.hold_code('0000-0000-0000-0', 'o-1', now() + interval '1 hour', 'web', 'nowhere')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(1, NULL, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office', 'shop')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(1, NULL, NULL, NULL, 1, 100)::benefit.basket_line], 999999, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(999999, NULL, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(1, 999999, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(1, NULL, 999999, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(1, NULL, NULL, 999999, 1, 100)::benefit.basket_line], NULL, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket(ARRAY[ROW(1, 1, NULL, NULL, 1, 100), ROW(1, 3, NULL, NULL, 1, 100)]::benefit.basket_line[], NULL, 'box-office')$$);
SELECT pg_temp.try($$SELECT benefit.price_basket('{"lines": [{"product_id": 2, "performance_id": 1, "quantity": 1}], "channel": "box-office"}')$$);
SELECT pg_temp.try($$SELECT benefit.hold('o-1', ARRAY[ROW(1, NULL, NULL, NULL, 1, 100)::benefit.basket_line], 999999, 'box-office', now() + interval '1 hour')$$);
SELECT pg_temp.try($$SELECT benefit.hold('o-1', ARRAY[ROW(2, 1, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'box-office', now() + interval '1 hour')$$);
SELECT pg_temp.try($$SELECT benefit.hold('o-1', ARRAY[ROW(1, NULL, NULL, NULL, 1, 100)::benefit.basket_line], NULL, 'web', now() + interval '1 hour', NULL, NULL, 'shop2')$$);

RESET ROLE;
ROLLBACK;
