-- tap_code_generation: benefit.generate_codes makes unique, valid codes for an
-- organisation contact, records the batch (and the role that called it),
-- queues its mail; draws again the codes that collide, gives up on a full
-- code space; and refuses every wrong request with a clear reason, writing
-- nothing.  The fixture is built by the DBA (superuser) on the shared
-- catalogue (test/fixtures/catalogue.sql): a single-use benefit (vouchers), a
-- public one, a closed single-use one (old), and an organisation without
-- e-mail; generation runs as a login granted only benefit_admin, who reads
-- the batches, codes and outbox it writes.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(35);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
    SELECT v.c, v.c, season_id, v.t::benefit.target_type, true, 1000
      FROM benefit.season, (VALUES ('vouchers', 'single_use'), ('public', 'public'), ('old', 'single_use')) v(c, t);
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 50 FROM benefit.benefit, benefit.product WHERE product.code = 'cyrano';
SELECT benefit.close(benefit_id) FROM benefit.benefit WHERE code = 'old' \g /dev/null
INSERT INTO benefit.contact (kind, name, email, language) VALUES ('organisation', 'No Mail Club', NULL, 'fr');

SET ROLE tap_admin;

-- refusals, each with its reason
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'public'), pg_temp.id('Alpina'), 10, 'letter', 'de')$$,
                 '22023', 'benefit "public" is not a single-use benefit', 'a benefit that is not single-use');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'old'), pg_temp.id('Alpina'), 10, 'letter', 'de')$$,
                 '55000', 'benefit "old" is closed', 'a closed benefit');
SELECT throws_ok($$SELECT benefit.generate_codes(999999, pg_temp.id('Alpina'), 10, 'letter', 'de')$$,
                 'P0002', 'benefit 999999 does not exist', 'an unknown benefit');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alice'), 10, 'letter', 'de')$$,
                 '22023', 'contact "Alice" is not an organisation', 'a person contact');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('No Mail Club'), 10, 'letter', 'de')$$,
                 '22023', 'organisation "No Mail Club" has no e-mail address', 'an organisation without e-mail');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), 999999, 10, 'letter', 'de')$$,
                 'P0002', 'contact 999999 does not exist', 'an unknown contact');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 0, 'letter', 'de')$$,
                 '22023', 'count must be between 1 and 10000000', 'a count of zero');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), -5, 'letter', 'de')$$,
                 '22023', 'count must be between 1 and 10000000', 'a negative count');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 10000001, 'letter', 'de')$$,
                 '54000', 'count must be between 1 and 10000000', 'a count above the maximum');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 10, '  ', 'de')$$,
                 '23514', NULL, 'a blank document template');
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 10, 'letter', 'german')$$,
                 '23514', NULL, 'a malformed language');
SELECT is(benefit.generate_codes(NULL, pg_temp.id('Alpina'), 10, 'letter', 'de'), NULL, 'NULL in, NULL out');
SELECT is((SELECT count(*)::int FROM benefit.code_batch) + (SELECT count(*)::int FROM benefit.single_use_code)
          + (SELECT count(*)::int FROM benefit.mail_outbox), 0, 'refusals write nothing');

-- a batch
SELECT isnt(benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 25000, 'letter', 'de'), NULL,
            'a batch of 25,000 codes (three chunks) is generated');
-- generate_codes runs as its owner (SECURITY DEFINER) but records the role that called it
SELECT results_eq($$SELECT b.code_count, b.email, b.document, b.language, b.season_id, b.created_by::text FROM benefit.code_batch b$$,
                  $$SELECT 25000, 'ce@alpina.example'::text, 'letter'::text, 'de'::text, season_id, current_user::text FROM benefit.season$$,
                  'the batch records count, e-mail from the contact, document, language, season and who');
SELECT is((SELECT count(*)::int FROM benefit.single_use_code), 25000, 'exactly the count of codes');
SELECT is((SELECT count(DISTINCT code)::int FROM benefit.single_use_code), 25000, 'all distinct');
SELECT is((SELECT count(*)::int FROM benefit.single_use_code WHERE state = 'issued' AND benefit_id = pg_temp.id('benefit', 'vouchers')), 25000,
          'all issued, for the benefit');
SELECT is((SELECT count(*)::int FROM benefit.batch_codes((SELECT batch_id FROM benefit.code_batch)) bc
            WHERE benefit.is_valid_code(bc.code)), 25000, 'batch_codes lists them, each with a valid check character');
SELECT cmp_ok((SELECT count(DISTINCT substr(code::text, 1, 1))::int FROM benefit.single_use_code), '=', 32,
              'the first character takes all 32 values (the codes are random)');
SELECT results_eq($$SELECT email, document, language, sent_at IS NULL FROM benefit.mail_outbox$$,
                  $$VALUES ('ce@alpina.example'::text, 'letter'::text, 'de'::text, true)$$, 'one mail is queued in the outbox');
SELECT isnt(benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 1, 'letter', 'de'), NULL, 'a second batch');
SELECT is((SELECT count(DISTINCT code)::int FROM benefit.single_use_code), 25001, 'codes are unique across batches');

-- collisions: benefit.test_code_bits = 8 leaves 256 possible codes, so a batch of 200 draws
-- duplicates (within its own chunk, then with the codes already in): each is drawn again
-- (only a superuser may narrow the code space: the DBA sets it, the admin login generates)
RESET ROLE;
SET benefit.test_code_bits = 8;
SET ROLE tap_admin;
SELECT isnt(benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 200, 'letter', 'de'), NULL,
            'a batch of 200 codes among 256 possible ones is generated despite its collisions');
SELECT is((SELECT count(DISTINCT code)::int FROM benefit.single_use_code WHERE code::text LIKE '0000-0000-00%'), 200,
          'it holds 200 distinct codes, all in the narrowed space');
SELECT isnt(benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 20, 'letter', 'de'), NULL,
            'a second batch colliding with the first one is generated too');
SELECT results_eq($$SELECT count(*)::int, count(DISTINCT code)::int FROM benefit.single_use_code WHERE code::text LIKE '0000-0000-00%'$$,
                  $$VALUES (220, 220)$$, 'the colliding codes were drawn again: 220 codes, none twice');
-- 16 possible codes, most already taken: the call gives up instead of drawing forever
RESET ROLE;
SET benefit.test_code_bits = 4;
SET ROLE tap_admin;
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 16, 'letter', 'de')$$,
                 '54000', 'no free code left to generate', 'a full code space is an error, not an endless loop');
RESET ROLE;
RESET benefit.test_code_bits;

-- the codes are written as COPY writes them (multi-insert, then the index entries): each is
-- found through both indexes
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SELECT is((SELECT count(*)::int FROM benefit.single_use_code
            WHERE batch_id = (SELECT min(batch_id) FROM benefit.code_batch)), 25000,
          'the batch index holds an entry for each code');
SELECT is((SELECT count(*)::int FROM benefit.single_use_code c JOIN benefit.single_use_code d ON d.code OPERATOR(benefit.=) c.code), 25221,
          'the primary key finds each code, once');
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- the table's check constraints hold for generated rows too (the DBA adds one that refuses them)
SELECT format('ALTER TABLE benefit.single_use_code ADD CONSTRAINT tap_no_vouchers CHECK (benefit_id <> %s) NOT VALID',
              pg_temp.id('benefit', 'vouchers')) \gexec
SET ROLE tap_admin;
SELECT throws_ok($$SELECT benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 10, 'letter', 'de')$$,
                 '23514', 'new row for relation "single_use_code" violates check constraint "tap_no_vouchers"',
                 'a check constraint of the table refuses generated codes');
RESET ROLE;
ALTER TABLE benefit.single_use_code DROP CONSTRAINT tap_no_vouchers;

-- a table with an insert trigger (here one the DBA adds) gets its codes through plain INSERTs,
-- which fire it for each code
CREATE TABLE public.tap_code_seen (code benefit.code);
CREATE FUNCTION public.tap_code_seen() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO public.tap_code_seen VALUES (NEW.code); RETURN NULL; END$$;
CREATE TRIGGER tap_code_seen AFTER INSERT ON benefit.single_use_code FOR EACH ROW EXECUTE FUNCTION public.tap_code_seen();
SET ROLE tap_admin;
SELECT isnt(benefit.generate_codes(pg_temp.id('benefit', 'vouchers'), pg_temp.id('Alpina'), 30, 'letter', 'de'), NULL,
            'a batch is generated into a table with an insert trigger');
RESET ROLE;
SELECT results_eq($$SELECT count(*)::int, count(DISTINCT code)::int FROM public.tap_code_seen$$, $$VALUES (30, 30)$$,
                  'the trigger fired once for each of its codes');
SELECT is((SELECT count(*)::int FROM benefit.single_use_code c JOIN public.tap_code_seen s ON s.code OPERATOR(benefit.=) c.code
            WHERE c.batch_id = (SELECT max(batch_id) FROM benefit.code_batch)), 30,
          'they are the codes of the batch');
DROP TRIGGER tap_code_seen ON benefit.single_use_code;

-- only a superuser narrows the code space
SET ROLE tap_sales;
SELECT throws_ok($$SET benefit.test_code_bits = 8$$, '42501', NULL, 'only a superuser can narrow the code space');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
