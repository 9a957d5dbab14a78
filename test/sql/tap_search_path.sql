-- tap_search_path: a hostile search_path.  A schema placed first in the
-- caller's search_path, with functions and operators shadowing the ones the
-- runtime uses (lower, btrim, now, unnest, = on bigint and on text), is never
-- called: every SECURITY DEFINER function pins its search_path, and
-- redeem_code, in C, runs its statements with pg_catalog as the only schema
-- searched.  The fixture is built by the DBA (superuser) on the shared
-- catalogue (test/fixtures/catalogue.sql): a public benefit, a partner one
-- (PARTNER1), a single-use one with a code for Alpina, a promo code (PROMO).
-- The calls run as a login granted only benefit_sales, the usage views as
-- one granted only benefit_report.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(9);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, access_code, point_of_sale_id)
    SELECT v.c, v.c, season_id, v.t::benefit.target_type, true, 10, v.a,
           CASE WHEN v.t = 'single_use' THEN (SELECT point_of_sale_id FROM benefit.point_of_sale WHERE code = 'shop') END
      FROM benefit.season, (VALUES ('pub', 'public', NULL), ('partner', 'partner', 'PARTNER1'), ('ce', 'single_use', NULL)) v(c, t, a);
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, CASE WHEN benefit.code = 'ce' THEN 50 ELSE 10 END
      FROM benefit.benefit, benefit.product WHERE product.code = 'cyrano';
DO $$
BEGIN
    PERFORM benefit.go_live(benefit_id) FROM benefit.benefit ORDER BY benefit_id;
END $$;
INSERT INTO fixture_note
SELECT 'batch', 'batch', benefit.generate_codes(b.benefit_id, c.contact_id, 1, 'letter', 'fr')::text
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'ce' AND c.name = 'Alpina';
INSERT INTO fixture_note SELECT 'code', 'code1', code::text FROM benefit.single_use_code;
CREATE FUNCTION pg_temp.code(i integer) RETURNS text LANGUAGE sql STABLE AS $$ SELECT pg_temp.fx('code' || i) $$;
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels) VALUES ('PROMO', 'Promo', 10, true);
SELECT ARRAY[ROW(product_id, NULL, NULL, NULL, 1, 2000)::benefit.basket_line]::text AS basket FROM benefit.product WHERE code = 'cyrano' \gset

-- a hostile schema: functions and an operator with the names the runtime uses, recording every call
CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT INSERT, SELECT ON evil.calls TO PUBLIC;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('lower') RETURNING 'x' $$;
CREATE FUNCTION evil.btrim(text) RETURNS text LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('btrim') RETURNING 'x' $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('now') RETURNING '2000-01-01'::timestamptz $$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('unnest') RETURNING NULL $$;
CREATE FUNCTION evil.int8eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('=') RETURNING true $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8eq);
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC;

-- the sales role sells, with the hostile schema first in its search_path
SET ROLE tap_sales;
SET search_path = evil, pg_catalog, public, benefit;   -- pg_catalog after evil: evil shadows it
-- the calls first (their answers kept in a temp table), the assertions once the path is reset:
-- pgTAP's own functions, which do not pin their path, would call the hostile operator
CREATE TEMP TABLE answers AS
SELECT 1 AS n, (SELECT count(*) FROM benefit.available(NULL, 'box-office', NULL, ARRAY['partner1']))::text AS v
UNION ALL
SELECT 2, (benefit.price_basket(:'basket'::benefit.basket_line[], NULL, 'box-office', NULL, NULL, ARRAY[' partner1 '], ' promo ')).total_cents::text
UNION ALL
SELECT 3, (benefit.hold('h1', :'basket'::benefit.basket_line[], NULL, 'box-office', pg_catalog.now() + interval '1 hour',
                        ARRAY['PARTNER1'], 'PROMO')).reason::text;
INSERT INTO answers SELECT 4, benefit.confirm('h1')::text;
INSERT INTO answers SELECT 5, benefit.expire_holds()::text;
RESET search_path;
SELECT is((SELECT v FROM answers WHERE n = 1), '2', 'sales: available works with a hostile search_path');
SELECT is((SELECT v FROM answers WHERE n = 2), '1620', 'sales: price_basket gives the right total (10 % off 20.00, then the promo''s 10 %)');
SELECT is((SELECT v FROM answers WHERE n = 3), 'ok', 'sales: hold works');
SELECT is((SELECT v FROM answers WHERE n = 4), 'ok', 'sales: confirm works');
SELECT is((SELECT v FROM answers WHERE n = 5), '0', 'sales: expire_holds works');
SELECT is((SELECT string_agg(what, ',') FROM evil.calls), NULL, 'not one call reached the hostile schema');
RESET ROLE;

-- what the sales role did under the hostile path counts
SET ROLE tap_report;
SELECT is((SELECT used FROM benefit.benefit_usage WHERE code = 'pub'), 1, 'report reads benefit_usage: the order confirmed under the hostile path is used');
SELECT is((SELECT used FROM benefit.promo_usage WHERE code = 'PROMO'), 1, 'report reads promo_usage: its promo code too');
RESET ROLE;

-- a caller's search_path cannot hijack the operators redeem_code uses
CREATE SCHEMA tap_evil;
CREATE FUNCTION tap_evil.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hijacked'; END $$;
CREATE OPERATOR tap_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = tap_evil.text_eq);
GRANT USAGE ON SCHEMA tap_evil TO PUBLIC;
GRANT EXECUTE ON FUNCTION tap_evil.text_eq(text, text) TO PUBLIC;
SELECT pg_temp.code(1) AS evil_code \gset
SET ROLE tap_sales;
SET LOCAL search_path = tap_evil, pg_catalog, public, benefit;
CREATE TEMP TABLE evil_result AS SELECT (benefit.redeem_code(:'evil_code', NULL, 'order-evil', 'box-office')).reason::text AS reason;
RESET search_path;
SELECT is((SELECT reason FROM evil_result), 'ok',
          'an operator planted earlier in the caller''s search_path is not used by redeem_code');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
