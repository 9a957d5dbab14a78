-- tap_role_matrix: each role, from a LOGIN role granted only that role, does
-- everything README ("Roles and privileges") documents for it, once, with
-- realistic arguments, and what it must not do still fails with 42501.
--
-- Codes are passed the way drivers send them: text parameters of prepared
-- statements cast to benefit.code ($1::benefit.code), literals compared with
-- OPERATOR(benefit.=) and OPERATOR(benefit.<>), codes cast back to text.
-- Every view is read whole (each row turned to text, so that every column is
-- computed) and filtered on its code column.  The mailer's round: catch-up
-- of the unsent outbox rows, batch_codes, mark sent.  The fixture is built
-- by the DBA (a superuser): test/fixtures/season.sql, the logins of
-- test/fixtures/logins.sql.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(193);
\i test/fixtures/logins.sql
\i test/fixtures/season.sql

SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'benefit_mailer'), false,
          'benefit_mailer exists, as a group role that cannot log in');

-- the first value a statement returns, as text ('null' for none); or its SQLSTATE and message
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    EXECUTE q INTO v;
    RETURN coalesce(v, 'null');
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- a basket line from catalogue ids (what a till knows)
CREATE FUNCTION pg_temp.line(prod text, perf text, seat text, aud text, qty integer, base bigint DEFAULT NULL)
RETURNS benefit.basket_line LANGUAGE sql AS $$
    SELECT ROW(pg_temp.id(prod), pg_temp.id(perf), pg_temp.id(seat), pg_temp.id(aud), qty, base)::benefit.basket_line $$;

--------------------------------------------------------------------------
-- benefit_sales: the runtime calls, the code type, the catalogue
--------------------------------------------------------------------------
SET ROLE tap_sales;
-- what JDBC setString, psycopg and node-postgres send: text parameters
PREPARE s_canonical(text) AS SELECT $1::benefit.code::text;
PREPARE s_same(text, text) AS SELECT $1::benefit.code OPERATOR(benefit.=) $2::benefit.code;
PREPARE s_differ(text, text) AS SELECT $1::benefit.code OPERATOR(benefit.<>) $2::benefit.code;
PREPARE s_redeem(text, bigint, text) AS
    SELECT (benefit.redeem_code($1::benefit.code, $2, $3, 'web', 'shop', 'client-1')).reason::text;
PREPARE s_hold_code(text, text) AS
    SELECT benefit.hold_code($1::benefit.code, $2, now() + interval '15 minutes', 'web', 'shop')::text;
PREPARE s_release_code(text, text) AS SELECT benefit.release_code($1::benefit.code, $2)::text;
PREPARE s_ticket(text, text, bigint, text) AS SELECT benefit.record_ticket($1, $2, $3, $4::benefit.code);

SELECT is(pg_temp.try(q), expected, 'sales: ' || what)
  FROM (VALUES
    (1, 'a text parameter cast to benefit.code and back to text (code_in, code_out)',
        $q$EXECUTE s_canonical(lower(replace(pg_temp.code(1), '-', ' ')))$q$, pg_temp.code(1)),
    (2, 'a literal cast to benefit.code and to text',
        $q$SELECT '0000-0000-0000-0'::benefit.code::text$q$, '0000-0000-0000-0'),
    (3, 'OPERATOR(benefit.=) on two text parameters', $q$EXECUTE s_same(pg_temp.code(1), lower(pg_temp.code(1)))$q$, 'true'),
    (4, 'OPERATOR(benefit.<>) on two text parameters', $q$EXECUTE s_differ(pg_temp.code(1), pg_temp.code(2))$q$, 'true'),
    (5, 'the ordering operators and code_cmp',
        $q$SELECT a OPERATOR(benefit.<=) a AND a OPERATOR(benefit.>=) a AND NOT a OPERATOR(benefit.<) a
                  AND NOT a OPERATOR(benefit.>) a AND benefit.code_cmp(a, a) = 0
             FROM (SELECT pg_temp.code(1)::benefit.code AS a) x$q$, 'true'),
    (6, 'sorting and de-duplicating codes (sort support)',
        $q$SELECT count(DISTINCT c)::text FROM unnest(ARRAY[pg_temp.code(2), pg_temp.code(1), lower(pg_temp.code(2))]::benefit.code[]) c$q$, '2'),
    (7, 'hashing codes (code_hash, code_hash_extended)',
        $q$SELECT benefit.code_hash(a) = benefit.code_hash(b) AND benefit.code_hash_extended(a, 7) = benefit.code_hash_extended(b, 7)
             FROM (SELECT pg_temp.code(1)::benefit.code AS a, lower(pg_temp.code(1))::benefit.code AS b) x$q$, 'true'),
    (8, 'the binary form (code_send: a version byte and 8 bytes)',
        $q$SELECT length(benefit.code_send(pg_temp.code(1)::benefit.code))::text$q$, '9'),
    (9, 'is_valid_code', $q$SELECT benefit.is_valid_code(lower(pg_temp.code(1)))::text$q$, 'true'),
    (10, 'enter_code', $q$SELECT kind || ' ' || reason || ' ' || benefit_code
                            FROM benefit.enter_code(pg_temp.code(1), 'web', 'shop', pg_temp.id('alice'), 'client-1')$q$,
         'single_use ok ce-alpina'),
    (11, 'available', $q$SELECT string_agg(benefit_code || ':' || coalesce(entered_code, '-'), ',' ORDER BY benefit_code)
                           FROM benefit.available(pg_temp.id('alice'), 'web', NULL, ARRAY[pg_temp.code(1), 'beaurivage26'], 'shop', 'client-1')$q$,
         'ce-alpina:' || pg_temp.code(1) || ',famille:-,hotel:beaurivage26,mailing:-'),
    (12, 'contacts_with_benefits', $q$SELECT string_agg(c.contact_id::text, ',' ORDER BY c.contact_id) = pg_temp.fx('alice') || ',' || pg_temp.fx('bob')
                                        FROM benefit.contacts_with_benefits(ARRAY[pg_temp.id('alice'), pg_temp.id('bob'), pg_temp.id('carol')], 'box-office') c$q$,
         'true'),
    (13, 'price_basket', $q$SELECT (benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 'stalls', 'adult', 2)], pg_temp.id('alice'),
                                                         'web', 'shop', NULL, NULL, 'bienvenue10', 'client-1')).total_cents::text$q$, '6480'),
    (14, 'price_basket (jsonb)', $q$SELECT benefit.price_basket(jsonb_build_object('lines', jsonb_build_array(jsonb_build_object(
                                          'product_id', pg_temp.id('tote'), 'quantity', 1)), 'channel', 'box-office')) ->> 'total_cents'$q$, '1500'),
    (15, 'hold, with a single-use code and a promo code',
         $q$SELECT (benefit.hold('m-order-1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 'stalls', 'adult', 2)], pg_temp.id('alice'), 'web',
                                 now() + interval '15 minutes', ARRAY[pg_temp.code(1)], 'BIENVENUE10', 'shop', 'client-1')).reason::text$q$, 'ok'),
    (16, 'confirm', $q$SELECT benefit.confirm('m-order-1')::text$q$, 'ok'),
    (17, 'hold at the box office', $q$SELECT (benefit.hold('m-order-2', ARRAY[pg_temp.line('tote', NULL, NULL, NULL, 1)], NULL, 'box-office',
                                                             now() + interval '15 minutes')).reason::text$q$, 'ok'),
    (18, 'release', $q$SELECT benefit.release('m-order-2')::text$q$, 'ok'),
    (19, 'expire_holds', $q$SELECT benefit.expire_holds()::text$q$, '0'),
    (20, 'redeem_code with a text parameter', $q$EXECUTE s_redeem(pg_temp.code(2), pg_temp.id('bob'), 'm-order-3')$q$, 'ok'),
    (21, 'hold_code with a text parameter', $q$EXECUTE s_hold_code(pg_temp.code(3), 'm-order-4')$q$, 'ok'),
    (22, 'release_code with a text parameter', $q$EXECUTE s_release_code(pg_temp.code(3), 'm-order-4')$q$, 'ok'),
    (23, 'expire_code_holds', $q$SELECT benefit.expire_code_holds()::text$q$, '0'),
    (24, 'record_ticket with a text parameter', $q$EXECUTE s_ticket('T-1', 'm-order-3', pg_temp.id('ce-alpina'), pg_temp.code(2))$q$, 'T-1'),
    (25, 'ticket_scanned', $q$SELECT benefit.ticket_scanned('T-1', now())::text$q$, 'true'),
    (26, 'money_unit_price', $q$SELECT benefit.money_unit_price(4000, NULL, NULL, 1250)::text$q$, '3500'),
    (27, 'money_basket_discount', $q$SELECT benefit.money_basket_discount(7200, NULL, 1000)::text$q$, '720'),
    (28, 'money_allocate', $q$SELECT benefit.money_allocate(100, ARRAY[333, 333, 333]::bigint[])::text$q$, '{34,33,33}'),
    (29, 'catalogue_product', $q$SELECT string_agg(concat_ws('/', v.code, v.name, v.family, v.family_name, v.season, v.product_id = pg_temp.id(v.code)), ','
                                                  ORDER BY v.code) || ' ' || count(v::text)
                                 FROM benefit.catalogue_product v$q$,
         'cyrano/Cyrano de Bergerac/tickets/Tickets/lac/t,mouette/La Mouette/tickets/Tickets/lac/t,tote/Tote bag/goods/Goods/lac/t 3'),
    (30, 'catalogue_performance', $q$SELECT count(v::text)::text FROM benefit.catalogue_performance v$q$, '3'),
    (31, 'catalogue_seat_category', $q$SELECT string_agg(v.code, ',' ORDER BY v.code) || ' ' || count(v::text) FROM benefit.catalogue_seat_category v$q$,
         'balcony,stalls 2'),
    (32, 'catalogue_audience', $q$SELECT string_agg(v.code, ',' ORDER BY v.code) || ' ' || count(v::text) FROM benefit.catalogue_audience v$q$,
         'adult,child 2'),
    (33, 'catalogue_price', $q$SELECT count(v::text)::text FROM benefit.catalogue_price v$q$, '5'),
    (34, 'catalogue_channel', $q$SELECT string_agg(v::text, ' ' ORDER BY v.channel) FROM benefit.catalogue_channel v$q$,
         '(box-office,"Box office",box_office,,) (call-centre,"Call centre",call_centre,,) (web,Web,web,shop,"Web shop")'),
    (35, 'a basket built from the catalogue, priced with its catalogue prices',
         $q$SELECT (benefit.price_basket(ARRAY(
                       SELECT ROW(p.product_id, pf.performance_id, s.seat_category_id, a.audience_id, 1, NULL)::benefit.basket_line
                         FROM benefit.catalogue_product p
                         JOIN benefit.catalogue_performance pf ON pf.product_id = p.product_id AND pf.code = 'cyrano-2'
                         JOIN benefit.catalogue_seat_category s ON s.code = 'balcony'
                         JOIN benefit.catalogue_audience a ON a.code = 'adult'),
                     NULL, c.channel, c.point_of_sale)).total_cents::text
              FROM benefit.catalogue_channel c WHERE c.point_of_sale = 'shop'$q$, '2700'),
    (36, 'hold a tote bag', $q$SELECT (benefit.hold('m-order-5', ARRAY[pg_temp.line('tote', NULL, NULL, NULL, 1)], NULL, 'box-office',
                                                      now() + interval '15 minutes')).reason::text$q$, 'ok'),
    (37, 'confirm it', $q$SELECT benefit.confirm('m-order-5')::text$q$, 'ok'),
    (38, 'refund it', $q$SELECT benefit.refund('m-order-5', 'm-refund-1', ARRAY[ROW(1, 1)::benefit.refund_line])::text$q$, 'ok')
  ) v(n, what, q, expected)
 ORDER BY n;

SELECT throws_ok(q, '42501', NULL, 'sales may not ' || what)
  FROM (VALUES
    (1, 'list codes', $q$SELECT * FROM benefit.single_use_code$q$),
    (2, 'list a batch''s codes', $q$SELECT * FROM benefit.batch_codes(pg_temp.id('batch'))$q$),
    (3, 'read batches', $q$SELECT * FROM benefit.code_batch$q$),
    (4, 'read the code history', $q$SELECT * FROM benefit.code_history$q$),
    (5, 'read contacts', $q$SELECT * FROM benefit.contact$q$),
    (6, 'read the benefit table', $q$SELECT * FROM benefit.benefit$q$),
    (7, 'read the catalogue tables (only the catalogue views)', $q$SELECT * FROM benefit.product$q$),
    (8, 'read holds', $q$SELECT * FROM benefit.order_hold$q$),
    (9, 'read tickets', $q$SELECT * FROM benefit.ticket$q$),
    (10, 'read the outbox', $q$SELECT * FROM benefit.mail_outbox$q$),
    (11, 'read code_tracking', $q$SELECT * FROM benefit.code_tracking$q$),
    (12, 'read code_dashboard', $q$SELECT * FROM benefit.code_dashboard$q$),
    (13, 'read benefit_usage', $q$SELECT * FROM benefit.benefit_usage$q$),
    (14, 'read benefit_overview', $q$SELECT * FROM benefit.benefit_overview$q$),
    (15, 'generate codes', $q$SELECT benefit.generate_codes(pg_temp.id('ce-alpina'), pg_temp.id('alpina'), 1, 'letter', 'fr')$q$),
    (16, 'invalidate a code', $q$SELECT benefit.invalidate_code(pg_temp.code(5)::benefit.code, 'lost')$q$),
    (17, 'change the lifecycle', $q$SELECT benefit.suspend(pg_temp.id('famille'))$q$),
    (18, 'list a benefit''s problems', $q$SELECT * FROM benefit.list_problems(pg_temp.id('famille'))$q$),
    (19, 'change a price', $q$UPDATE benefit.base_price SET price_cents = 1$q$),
    (20, 'read the refunds', $q$SELECT * FROM benefit.order_refund$q$),
    (21, 'purge old orders', $q$SELECT benefit.purge_orders()$q$)
  ) v(n, what, q)
 ORDER BY n;
RESET ROLE;

--------------------------------------------------------------------------
-- benefit_report: the reporting views, whole and filtered on codes
--------------------------------------------------------------------------
SET ROLE tap_report;
PREPARE r_track(text) AS
    SELECT state || ' ' || used_order || ' ' || tickets_issued || ' ' || tickets_scanned
      FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) $1::benefit.code;

SELECT is(pg_temp.try(q), expected, 'report: ' || what)
  FROM (VALUES
    (1, 'code_dashboard, every column', $q$SELECT string_agg(v::text, ' ') FROM benefit.code_dashboard v$q$,
        '(' || pg_temp.fx('alpina') || ',Alpina,' || pg_temp.fx('ce-alpina') || ',ce-alpina,"Alpina works council",1,5,2,0,0,3,1,1,0,0)'),
    (2, 'code_tracking, every column', $q$SELECT count(v::text)::text FROM benefit.code_tracking v$q$, '5'),
    (3, 'code_tracking filtered with OPERATOR(benefit.=) on a text parameter', $q$EXECUTE r_track(lower(pg_temp.code(2)))$q$,
        'used m-order-3 1 1'),
    (4, 'code_tracking filtered with OPERATOR(benefit.<>) on a literal',
        format($q$SELECT count(*)::text FROM benefit.code_tracking WHERE code OPERATOR(benefit.<>) %L$q$, pg_temp.code(2)), '4'),
    (5, 'code_tracking''s codes as text, in code order',
        $q$SELECT string_agg(code::text, ',' ORDER BY code) = (SELECT string_agg(value, ',' ORDER BY name) FROM pg_temp.fixture WHERE name LIKE 'code_')
             FROM benefit.code_tracking$q$, 'true'),
    (6, 'code_tracking: tickets issued and scanned', $q$SELECT sum(tickets_issued) || ' ' || sum(tickets_scanned) FROM benefit.code_tracking$q$, '1 1'),
    (7, 'benefit_overview, every column', $q$SELECT count(v::text) || ' ' || sum(problems) FROM benefit.benefit_overview v$q$, '5 0'),
    (8, 'benefit_usage, every column', $q$SELECT string_agg(v.code || ':' || v.held || '/' || v.used, ',' ORDER BY v.code) || ' ' || count(v::text)
                                           FROM benefit.benefit_usage v$q$,
        'ce-alpina:0/4,famille:0/0,fidelite:0/0,hotel:0/0,mailing:0/0 5'),
    (9, 'promo_usage, every column', $q$SELECT string_agg(concat_ws(' ', v.code, v.name, v.is_active, v.max_uses_total, v.held, v.used, v."left",
                                                                v.discount_cents, v.problems), ',') || ' ' || count(v::text)
                                         FROM benefit.promo_usage v$q$, 'BIENVENUE10 Welcome t 1000 0 1 999 400 0 1'),
    (10, 'count_problems', $q$SELECT benefit.count_problems(pg_temp.id('hotel'))::text$q$, '0'),
    (11, 'count_promo_problems', $q$SELECT benefit.count_promo_problems((SELECT promo_code_id FROM benefit.promo_usage))::text$q$, '0'),
    (12, 'SELECT * FROM benefit.code_dashboard', $q$SELECT * FROM benefit.code_dashboard$q$, pg_temp.fx('alpina')),
    (13, 'SELECT * FROM benefit.code_tracking ORDER BY code', $q$SELECT * FROM benefit.code_tracking ORDER BY code$q$, pg_temp.code(1))
  ) v(n, what, q, expected)
 ORDER BY n;

SELECT throws_ok(q, '42501', NULL, 'report may not ' || what)
  FROM (VALUES
    (1, 'write configuration', $q$UPDATE benefit.benefit SET name = 'x'$q$),
    (2, 'add a contact', $q$INSERT INTO benefit.contact (kind, name) VALUES ('person', 'Eve')$q$),
    (3, 'read the codes table', $q$SELECT * FROM benefit.single_use_code$q$),
    (4, 'read contacts', $q$SELECT * FROM benefit.contact$q$),
    (5, 'read tickets', $q$SELECT * FROM benefit.ticket$q$),
    (6, 'read the catalogue views', $q$SELECT * FROM benefit.catalogue_product$q$),
    (7, 'call available', $q$SELECT * FROM benefit.available(NULL, 'box-office')$q$),
    (8, 'call price_basket', $q$SELECT benefit.price_basket(ARRAY[pg_temp.line('tote', NULL, NULL, NULL, 1)], NULL, 'box-office')$q$),
    (9, 'call hold', $q$SELECT benefit.hold('r-1', ARRAY[pg_temp.line('tote', NULL, NULL, NULL, 1)], NULL, 'box-office', now() + interval '1 minute')$q$),
    (10, 'call confirm', $q$SELECT benefit.confirm('m-order-1')$q$),
    (11, 'call redeem_code', $q$SELECT benefit.redeem_code(pg_temp.code(5)::benefit.code, NULL, 'r-2')$q$),
    (12, 'call enter_code', $q$SELECT * FROM benefit.enter_code(pg_temp.code(5))$q$),
    (13, 'call expire_holds', $q$SELECT benefit.expire_holds()$q$),
    (14, 'list a benefit''s problems (only count them)', $q$SELECT * FROM benefit.list_problems(pg_temp.id('hotel'))$q$),
    (15, 'list a batch''s codes', $q$SELECT * FROM benefit.batch_codes(pg_temp.id('batch'))$q$),
    (16, 'read the outbox', $q$SELECT * FROM benefit.mail_outbox$q$),
    (17, 'call refund', $q$SELECT benefit.refund('m-order-5', 'm-refund-2')$q$),
    (18, 'read the refunds', $q$SELECT * FROM benefit.order_refund$q$)
  ) v(n, what, q)
 ORDER BY n;
RESET ROLE;

--------------------------------------------------------------------------
-- benefit_admin: configuration, lifecycle, codes, history, views, outbox
--------------------------------------------------------------------------
SET ROLE tap_admin;
SELECT is(pg_temp.try(format('SELECT (count(t) >= 0)::text FROM benefit.%I t', t)), 'true', 'admin: reads benefit.' || t)
  FROM unnest(ARRAY['season', 'sales_channel', 'point_of_sale', 'product_family', 'product', 'performance', 'seat_category',
                    'audience', 'base_price', 'contact', 'indicator', 'indicator_level', 'contact_indicator', 'campaign',
                    'campaign_target', 'benefit', 'benefit_channel', 'benefit_tariff', 'promo_code', 'promo_code_channel',
                    'benefit_status_history', 'code_batch', 'single_use_code', 'code_history', 'mail_outbox', 'ticket',
                    'order_hold', 'order_line', 'order_refund', 'order_refund_line', 'order_open']) WITH ORDINALITY u(t, n)
 ORDER BY n;

SELECT is(pg_temp.try(q), expected, 'admin: ' || what)
  FROM (VALUES
    (1, 'adds a product', $q$INSERT INTO benefit.product (code, name, family_id, season_id)
                            SELECT 'figaro', 'Les Noces de Figaro', family_id, season_id FROM benefit.product_family, benefit.season
                             WHERE product_family.code = 'tickets' RETURNING code$q$, 'figaro'),
    (2, 'adds a performance', $q$INSERT INTO benefit.performance (code, product_id, starts_at)
                                SELECT 'figaro-1', product_id, '2990-12-10 20:00+00' FROM benefit.product WHERE code = 'figaro' RETURNING code$q$,
        'figaro-1'),
    (3, 'adds a base price', $q$INSERT INTO benefit.base_price (product_id, price_cents)
                               SELECT product_id, 5000 FROM benefit.product WHERE code = 'figaro' RETURNING price_cents::text$q$, '5000'),
    (4, 'adds a contact', $q$INSERT INTO benefit.contact (kind, name, email) VALUES ('person', 'Dora', 'dora@example.org') RETURNING name$q$, 'Dora'),
    (5, 'adds a contact to a campaign', $q$INSERT INTO benefit.campaign_target (campaign_id, contact_id)
                                          SELECT campaign_id, contact_id FROM benefit.campaign, benefit.contact WHERE contact.name = 'Dora'
                                          RETURNING 'added'$q$, 'added'),
    (6, 'sets a contact''s indicator level', $q$INSERT INTO benefit.contact_indicator (contact_id, indicator_id, level_id)
                                               SELECT c.contact_id, l.indicator_id, l.level_id FROM benefit.contact c, benefit.indicator_level l
                                                WHERE c.name = 'Dora' RETURNING 'set'$q$, 'set'),
    (7, 'adds a benefit', $q$INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels)
                            SELECT 'figaro-pub', 'Figaro for all', season_id, 'public', true FROM benefit.season RETURNING status::text$q$, 'draft'),
    (8, 'adds a tariff row', $q$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
                               SELECT b.benefit_id, p.product_id, 15 FROM benefit.benefit b, benefit.product p
                                WHERE b.code = 'figaro-pub' AND p.code = 'figaro' RETURNING percent_off::text$q$, '15'),
    (9, 'list_problems', $q$SELECT count(*)::text FROM benefit.list_problems((SELECT benefit_id FROM benefit.benefit WHERE code = 'figaro-pub'))$q$, '0'),
    (10, 'count_problems', $q$SELECT benefit.count_problems((SELECT benefit_id FROM benefit.benefit WHERE code = 'figaro-pub'))::text$q$, '0'),
    (11, 'validate', $q$SELECT benefit.validate((SELECT benefit_id FROM benefit.benefit WHERE code = 'figaro-pub'))::text$q$, 'validated'),
    (12, 'go_live', $q$SELECT benefit.go_live((SELECT benefit_id FROM benefit.benefit WHERE code = 'figaro-pub'))::text$q$, 'live'),
    (13, 'suspend', $q$SELECT benefit.suspend((SELECT benefit_id FROM benefit.benefit WHERE code = 'figaro-pub'))::text$q$, 'suspended'),
    (14, 'close', $q$SELECT benefit.close((SELECT benefit_id FROM benefit.benefit WHERE code = 'figaro-pub'))::text$q$, 'closed'),
    (15, 'renames a closed benefit', $q$UPDATE benefit.benefit SET name = 'Figaro (ended)' WHERE code = 'figaro-pub' RETURNING name$q$,
         'Figaro (ended)'),
    (16, 'adds a channel to a live benefit', $q$WITH a AS (INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
                                                               SELECT b.benefit_id, c.channel_id FROM benefit.benefit b, benefit.sales_channel c
                                                                WHERE b.code = 'hotel' AND c.code = 'call-centre' RETURNING benefit_id, channel_id)
                                                         SELECT count(*)::text FROM a$q$, '1'),
    (17, 'removes it', $q$DELETE FROM benefit.benefit_channel WHERE channel_id = (SELECT channel_id FROM benefit.sales_channel WHERE code = 'call-centre')
                          RETURNING 'removed'$q$, 'removed'),
    (18, 'adds a promo code and its channel', $q$WITH p AS (INSERT INTO benefit.promo_code (code, name, amount_off_cents) VALUES ('FIGARO5', 'Figaro', 500)
                                                             RETURNING promo_code_id)
                                                 INSERT INTO benefit.promo_code_channel (promo_code_id, channel_id)
                                                 SELECT p.promo_code_id, c.channel_id FROM p, benefit.sales_channel c WHERE c.code = 'web'
                                                 RETURNING 'added'$q$, 'added'),
    (19, 'list_promo_problems', $q$SELECT count(*)::text FROM benefit.list_promo_problems((SELECT promo_code_id FROM benefit.promo_code WHERE code = 'FIGARO5'))$q$, '0'),
    (20, 'count_promo_problems', $q$SELECT benefit.count_promo_problems((SELECT promo_code_id FROM benefit.promo_code WHERE code = 'FIGARO5'))::text$q$, '0'),
    (21, 'deletes a draft benefit', $q$WITH b AS (INSERT INTO benefit.benefit (code, name, season_id, target_type) SELECT 'oops', 'Oops', season_id, 'public'
                                                    FROM benefit.season RETURNING benefit_id)
                                      SELECT count(*)::text FROM b$q$, '1'),
    (22, 'deletes it', $q$DELETE FROM benefit.benefit WHERE code = 'oops' RETURNING code$q$, 'oops'),
    (23, 'generate_codes', $q$SELECT benefit.generate_codes(pg_temp.id('ce-alpina'), pg_temp.id('globex'), 3, 'letter', 'en') IS NOT NULL$q$, 'true'),
    (24, 'batch_codes', $q$SELECT count(*)::text FROM benefit.code_batch b, benefit.batch_codes(b.batch_id) c$q$, '8'),
    (25, 'is_valid_code', $q$SELECT benefit.is_valid_code(pg_temp.code(4))::text$q$, 'true'),
    (26, 'invalidate_code', $q$SELECT benefit.invalidate_code(pg_temp.code(4)::benefit.code, 'lost in the mail')::text$q$, 'ok'),
    (27, 'a code looked up with OPERATOR(benefit.=) and a literal',
         format($q$SELECT state::text FROM benefit.single_use_code WHERE code OPERATOR(benefit.=) %L$q$, lower(pg_temp.code(4))), 'invalidated'),
    (28, 'its history, looked up the same way',
         format($q$SELECT string_agg(to_state::text || ' ' || reason, ',') FROM benefit.code_history WHERE code OPERATOR(benefit.=) %L$q$, pg_temp.code(4)),
         'invalidated lost in the mail'),
    (29, 'the other codes of the batch, with OPERATOR(benefit.<>)',
         format($q$SELECT count(*)::text FROM benefit.single_use_code WHERE batch_id = %s AND code OPERATOR(benefit.<>) %L$q$,
                pg_temp.id('batch'), pg_temp.code(4)), '4'),
    (30, 'code_tracking filtered with OPERATOR(benefit.=)',
         format($q$SELECT state || ' ' || invalidated_reason FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) %L$q$, pg_temp.code(4)),
         'invalidated lost in the mail'),
    (31, 'code_tracking, every column', $q$SELECT count(v::text)::text FROM benefit.code_tracking v$q$, '8'),
    (32, 'code_dashboard, every column', $q$SELECT count(v::text)::text FROM benefit.code_dashboard v$q$, '2'),
    (33, 'benefit_overview, every column', $q$SELECT count(v::text)::text FROM benefit.benefit_overview v$q$, '6'),
    (34, 'benefit_usage, every column', $q$SELECT count(v::text)::text FROM benefit.benefit_usage v$q$, '6'),
    (35, 'promo_usage, every column', $q$SELECT count(v::text)::text FROM benefit.promo_usage v$q$, '2'),
    (36, 'the catalogue views', $q$SELECT (SELECT count(v::text) FROM benefit.catalogue_product v) || ' ' || (SELECT count(v::text) FROM benefit.catalogue_performance v)
                                          || ' ' || (SELECT count(v::text) FROM benefit.catalogue_price v)$q$, '4 4 6'),
    (37, 'the status history', $q$SELECT string_agg(to_status::text, ',' ORDER BY history_id) FROM benefit.benefit_status_history h
                                   JOIN benefit.benefit b USING (benefit_id) WHERE b.code = 'figaro-pub'$q$, 'draft,validated,live,suspended,closed'),
    (38, 'marks an outbox mail sent', $q$UPDATE benefit.mail_outbox SET sent_at = now() WHERE batch_id = pg_temp.id('batch') RETURNING email$q$,
         'ce@alpina.example'),
    (39, 'library_version', $q$SELECT (benefit.library_version() = extversion)::text FROM pg_extension WHERE extname = 'benefit'$q$, 'true'),
    (40, 'refund (the same refund again)', $q$SELECT benefit.refund('m-order-5', 'm-refund-1', ARRAY[ROW(1, 1)::benefit.refund_line])::text$q$, 'ok'),
    (41, 'purge_orders (nothing closed 90 days ago)', $q$SELECT benefit.purge_orders()::text$q$, '0')
  ) v(n, what, q, expected)
 ORDER BY n;

SELECT throws_ok(q, '42501', NULL, 'admin may not ' || what)
  FROM (VALUES
    (1, 'rewrite an audit column', $q$UPDATE benefit.benefit SET status_changed_by = 'someone_else'$q$),
    (2, 'write the status history', $q$INSERT INTO benefit.benefit_status_history (benefit_id, to_status) SELECT benefit_id, 'live' FROM benefit.benefit$q$),
    (3, 'change a code''s state by hand', $q$UPDATE benefit.single_use_code SET state = 'issued'$q$),
    (4, 'rewrite the code history', $q$DELETE FROM benefit.code_history$q$),
    (5, 'write the quota counters', $q$UPDATE benefit.counter SET used = 0$q$),
    (6, 'queue a mail by hand', $q$INSERT INTO benefit.mail_outbox (batch_id, email, document, language) SELECT batch_id, 'x@example.org', 'd', 'fr' FROM benefit.code_batch$q$),
    (7, 'change an outbox mail''s recipient', $q$UPDATE benefit.mail_outbox SET email = 'x@example.org'$q$),
    (8, 'narrow the code space', $q$SET benefit.test_code_bits = 8$q$)
  ) v(n, what, q)
 ORDER BY n;
RESET ROLE;

--------------------------------------------------------------------------
-- benefit_mailer: LISTEN, catch-up, export a batch, mark it sent
--------------------------------------------------------------------------
SET ROLE tap_mailer;
SELECT lives_ok($$LISTEN benefit_code_batch$$, 'mailer: LISTEN benefit_code_batch');
SELECT is(pg_temp.try(q), expected, 'mailer: ' || what)
  FROM (VALUES
    (1, 'catch-up: the unsent mails', $q$SELECT string_agg(concat_ws(' ', email, document, language, created_at IS NOT NULL), ',' ORDER BY outbox_id)
                                         FROM benefit.mail_outbox WHERE sent_at IS NULL$q$, 'hr@globex.example letter en t'),
    (2, 'batch_codes of each unsent mail''s batch', $q$SELECT count(*) || ' ' || min(c.benefit) || ' ' || min(c.benefit_name)
                                                        FROM benefit.mail_outbox o, benefit.batch_codes(o.batch_id) c WHERE o.sent_at IS NULL$q$,
        '3 ce-alpina Alpina works council')
  ) v(n, what, q, expected)
 ORDER BY n;
CREATE TEMP TABLE mailed AS SELECT c.* FROM benefit.mail_outbox o, benefit.batch_codes(o.batch_id) c WHERE o.sent_at IS NULL;
SELECT is(pg_temp.try($q$UPDATE benefit.mail_outbox SET sent_at = now() WHERE sent_at IS NULL RETURNING email$q$), 'hr@globex.example',
          'mailer: marks the mail sent');
SELECT is(pg_temp.try($q$SELECT count(*)::text FROM benefit.mail_outbox WHERE sent_at IS NULL$q$), '0', 'mailer: nothing left to send');

SELECT throws_ok(q, '42501', NULL, 'mailer may not ' || what)
  FROM (VALUES
    (1, 'generate codes', $q$SELECT benefit.generate_codes(pg_temp.id('ce-alpina'), pg_temp.id('alpina'), 1, 'letter', 'fr')$q$),
    (2, 'read configuration', $q$SELECT * FROM benefit.benefit$q$),
    (3, 'change configuration', $q$UPDATE benefit.benefit SET quota_total = NULL$q$),
    (4, 'read contacts', $q$SELECT * FROM benefit.contact$q$),
    (5, 'read the codes table', $q$SELECT * FROM benefit.single_use_code$q$),
    (6, 'read batches', $q$SELECT * FROM benefit.code_batch$q$),
    (7, 'read the code history', $q$SELECT * FROM benefit.code_history$q$),
    (8, 'change an outbox mail''s recipient', $q$UPDATE benefit.mail_outbox SET email = 'x@example.org'$q$),
    (9, 'queue a mail', $q$INSERT INTO benefit.mail_outbox (batch_id, email, document, language) VALUES (1, 'x@example.org', 'd', 'fr')$q$),
    (10, 'delete an outbox mail', $q$DELETE FROM benefit.mail_outbox$q$),
    (11, 'read the reporting views', $q$SELECT * FROM benefit.code_tracking$q$),
    (12, 'read the catalogue', $q$SELECT * FROM benefit.catalogue_product$q$),
    (13, 'use a code', $q$SELECT benefit.redeem_code(pg_temp.code(5)::benefit.code, NULL, 'mail-1')$q$),
    (14, 'enter a code', $q$SELECT * FROM benefit.enter_code(pg_temp.code(5))$q$),
    (15, 'invalidate a code', $q$SELECT benefit.invalidate_code(pg_temp.code(5)::benefit.code, 'x')$q$),
    (16, 'change the lifecycle', $q$SELECT benefit.close(pg_temp.id('ce-alpina'))$q$)
  ) v(n, what, q)
 ORDER BY n;
RESET ROLE;
SELECT results_eq($$SELECT code, benefit, benefit_name FROM mailed ORDER BY code$$,
                  $$SELECT c.code::text, b.code, b.name FROM benefit.single_use_code c JOIN benefit.benefit b USING (benefit_id)
                     WHERE c.batch_id = (SELECT max(batch_id) FROM benefit.code_batch) ORDER BY c.code$$,
                  'the mailer exported exactly the codes of the new batch');

SELECT * FROM finish();
ROLLBACK;
