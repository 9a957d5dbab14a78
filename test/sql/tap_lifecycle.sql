-- tap_lifecycle: going live checks completeness and lists every problem;
-- the transitions allowed and refused; what may change on a live,
-- suspended or closed benefit; every transition is recorded.  The catalogue
-- is the shared one (test/fixtures/catalogue.sql) plus two seasons of its
-- own, s26 (2026-09-01 to 2027-06-30, product hamlet) and s25 (the season
-- before, product old), set up by the DBA (superuser); the benefits are
-- configured and taken through their lifecycle by a login granted only
-- benefit_admin.  Promo codes have no lifecycle: their problems are
-- tap_promo_codes'.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(65);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s26', 'Season 2026-27', '2026-09-01', '2027-06-30'), ('s25', 'Old season', '2025-09-01', '2026-06-30');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'hamlet', 'Hamlet', f.family_id, s.season_id FROM benefit.product_family f, benefit.season s WHERE f.code = 'tickets' AND s.code = 's26'
    UNION ALL
    SELECT 'old', 'Last year', f.family_id, s.season_id FROM benefit.product_family f, benefit.season s WHERE f.code = 'tickets' AND s.code = 's25';
SET ROLE tap_admin;

CREATE PROCEDURE pg_temp.add_tariff(c text, price bigint) LANGUAGE sql AS $$
    INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
    SELECT pg_temp.id('benefit', c), product_id, price FROM benefit.product WHERE code = 'hamlet' $$;
CREATE PROCEDURE pg_temp.add_channel(c text, ch text) LANGUAGE sql AS $$
    INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
    SELECT pg_temp.id('benefit', c), channel_id FROM benefit.sales_channel WHERE code = ch $$;
-- the DETAIL of the error a statement raises, or 'no error'
CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

INSERT INTO benefit.benefit (code, name, season_id, target_type)
SELECT v.code, v.code, s.season_id, v.t::benefit.target_type
  FROM benefit.season s,
       (VALUES ('pub', 'public'), ('con', 'contacts'), ('ind', 'indicator'), ('par', 'partner'), ('one', 'single_use')) v(code, t)
 WHERE s.code = 's26';

-- 1. going live refuses incomplete benefits and lists every problem
SELECT throws_ok($$SELECT benefit.go_live(pg_temp.id('benefit', 'pub'))$$, '55000', 'benefit "pub" cannot go live',
                 'an empty public benefit cannot go live');
SELECT is(pg_temp.detail_of($$SELECT benefit.go_live(pg_temp.id('benefit', 'pub'))$$),
          E'2 problems:\nchannels: no sales channel: set all_channels or add rows to benefit_channel\ntariff: no tariff rows',
          'the refusal lists both missing things');
SELECT throws_ok($$SELECT benefit.validate(pg_temp.id('benefit', 'pub'))$$, '55000', 'benefit "pub" cannot be validated',
                 'validate runs the same checks');
SELECT results_eq($$SELECT field FROM benefit.list_problems(pg_temp.id('benefit', 'con')) ORDER BY 1$$,
                  ARRAY['campaign_id', 'channels', 'tariff'], 'contacts benefit: campaign missing');
UPDATE benefit.campaign SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's25');
UPDATE benefit.benefit SET campaign_id = (SELECT campaign_id FROM benefit.campaign) WHERE code = 'con';
SELECT is((SELECT problem FROM benefit.list_problems(pg_temp.id('benefit', 'con')) WHERE field = 'campaign_id'),
          'campaign rentree is for another season than the benefit', 'a campaign of another season is reported');
UPDATE benefit.campaign SET season_id = NULL;
SELECT is_empty($$SELECT 1 FROM benefit.list_problems(pg_temp.id('benefit', 'con')) WHERE field = 'campaign_id'$$,
                'a campaign without season suits any benefit');
SELECT results_eq($$SELECT field FROM benefit.list_problems(pg_temp.id('benefit', 'ind')) ORDER BY 1$$,
                  ARRAY['channels', 'indicator_level_id', 'tariff'], 'indicator benefit: level missing');
SELECT results_eq($$SELECT field FROM benefit.list_problems(pg_temp.id('benefit', 'par')) ORDER BY 1$$,
                  ARRAY['access_code', 'channels', 'quota_total', 'tariff'], 'partner benefit: access code and quota missing');
SELECT results_eq($$SELECT field FROM benefit.list_problems(pg_temp.id('benefit', 'one')) ORDER BY 1$$,
                  ARRAY['channels', 'quota_total', 'tariff'], 'single-use benefit: quota missing');

CALL pg_temp.add_channel('one', 'web');
SELECT is((SELECT string_agg(problem, '; ') FROM benefit.list_problems(pg_temp.id('benefit', 'one')) WHERE field = 'point_of_sale_id'),
          'a single-use benefit sold on the web needs a web point of sale', 'single-use on the web: point of sale missing');
UPDATE benefit.benefit SET point_of_sale_id = (SELECT point_of_sale_id FROM benefit.point_of_sale) WHERE code = 'one';
SELECT is_empty($$SELECT 1 FROM benefit.list_problems(pg_temp.id('benefit', 'one')) WHERE field = 'point_of_sale_id'$$,
                'the point of sale is on a channel the benefit is sold on');
CALL pg_temp.add_channel('pub', 'box-office');
UPDATE benefit.benefit SET point_of_sale_id = NULL WHERE code = 'one';
DELETE FROM benefit.benefit_channel WHERE benefit_id = pg_temp.id('benefit', 'one');
CALL pg_temp.add_channel('one', 'box-office');
SELECT is_empty($$SELECT 1 FROM benefit.list_problems(pg_temp.id('benefit', 'one')) WHERE field = 'point_of_sale_id'$$,
                'a single-use benefit sold only at the box office needs no point of sale');
UPDATE benefit.benefit SET point_of_sale_id = (SELECT point_of_sale_id FROM benefit.point_of_sale) WHERE code = 'one';
SELECT is((SELECT problem FROM benefit.list_problems(pg_temp.id('benefit', 'one')) WHERE field = 'point_of_sale_id'),
          'point of sale shop is not on a channel the benefit is sold on', 'point of sale outside the benefit''s channels');

-- validity, season, channels both ways
UPDATE benefit.benefit SET valid_from = '2020-01-01', valid_until = '2020-02-01' WHERE code = 'pub';
SELECT results_eq($$SELECT problem FROM benefit.list_problems(pg_temp.id('benefit', 'pub')) WHERE field = 'valid_until' ORDER BY 1$$,
                  ARRAY['the validity ends before the season starts (2026-09-01)', 'the validity has already ended'],
                  'a validity in the past and before the season is reported');
UPDATE benefit.benefit SET valid_from = '2027-08-01', valid_until = NULL WHERE code = 'pub';
SELECT is((SELECT problem FROM benefit.list_problems(pg_temp.id('benefit', 'pub')) WHERE field = 'valid_from'),
          'the validity starts after the season ends (2027-06-30)', 'a validity after the season is reported');
UPDATE benefit.benefit SET valid_from = NULL, all_channels = true WHERE code = 'pub';
SELECT is((SELECT problem FROM benefit.list_problems(pg_temp.id('benefit', 'pub')) WHERE field = 'channels'),
          'all_channels is set and benefit_channel has rows too: keep one of them', 'all channels and channel rows is ambiguous');
DELETE FROM benefit.benefit_channel WHERE benefit_id = pg_temp.id('benefit', 'pub');
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
SELECT pg_temp.id('benefit', 'pub'), product_id, 10 FROM benefit.product WHERE code = 'old';
SELECT is((SELECT problem FROM benefit.list_problems(pg_temp.id('benefit', 'pub')) WHERE field = 'tariff'),
          'product old is in another season than the benefit', 'a tariff row on a product of another season is reported');
DELETE FROM benefit.benefit_tariff WHERE benefit_id = pg_temp.id('benefit', 'pub');
CALL pg_temp.add_tariff('pub', 1500);
SELECT is_empty($$SELECT * FROM benefit.list_problems(pg_temp.id('benefit', 'pub'))$$, 'the public benefit is complete');

-- 2. transitions allowed
SELECT is(benefit.validate(pg_temp.id('benefit', 'pub')), 'validated', 'draft -> validated');
SELECT is(benefit.validate(pg_temp.id('benefit', 'pub')), 'validated', 'validate is idempotent');
SELECT is(benefit.go_live(pg_temp.id('benefit', 'pub')), 'live', 'validated -> live');
SELECT is(benefit.go_live(pg_temp.id('benefit', 'pub')), 'live', 'go_live is idempotent');
SELECT is(benefit.suspend(pg_temp.id('benefit', 'pub')), 'suspended', 'live -> suspended');
SELECT is(benefit.go_live(pg_temp.id('benefit', 'pub')), 'live', 'suspended -> live');

-- partner: complete it, straight from draft to live
UPDATE benefit.benefit SET access_code = 'FRIENDS-2026', quota_total = 100, quota_per_order = 4 WHERE code = 'par';
CALL pg_temp.add_tariff('par', 1200);
CALL pg_temp.add_channel('par', 'web');
SELECT is(benefit.go_live(pg_temp.id('benefit', 'par')), 'live', 'draft -> live when complete');

-- 3. transitions refused
SELECT throws_ok($$SELECT benefit.validate(pg_temp.id('benefit', 'pub'))$$, '55000', 'benefit "pub" cannot go from live to validated', 'live -> validated refused');
SELECT throws_ok($$UPDATE benefit.benefit SET status = 'draft' WHERE code = 'pub'$$, '55000', 'benefit "pub" cannot go from live to draft', 'live -> draft refused, even by UPDATE');
SELECT throws_ok($$SELECT benefit.suspend(pg_temp.id('benefit', 'con'))$$, '55000', 'benefit "con" cannot go from draft to suspended', 'draft -> suspended refused');
SELECT throws_ok($$SELECT benefit.go_live(999999)$$, 'P0002', 'benefit 999999 does not exist', 'unknown benefit');
SELECT throws_ok($$UPDATE benefit.benefit SET status = 'live' WHERE code = 'ind'$$, '55000', 'benefit "ind" cannot go live',
                 'a direct UPDATE of status runs the completeness check too');

-- 4. what may change on a live benefit
SELECT lives_ok($$UPDATE benefit.benefit SET name = 'Everyone', description = 'For all', valid_until = '2027-06-01' WHERE code = 'pub'$$,
                'name, description and validity may change while live');
SELECT lives_ok($$CALL pg_temp.add_channel('par', 'box-office')$$, 'a channel may be added while live');
SELECT lives_ok($$DELETE FROM benefit.benefit_channel WHERE benefit_id = pg_temp.id('benefit', 'par') AND channel_id = (SELECT channel_id FROM benefit.sales_channel WHERE code = 'box-office')$$,
                'a channel may be removed while live');
SELECT throws_ok($$DELETE FROM benefit.benefit_channel WHERE benefit_id = pg_temp.id('benefit', 'par')$$, '55000',
                 'this change would leave live benefit "par" incomplete', 'the last channel of a live benefit cannot be removed');
SELECT throws_ok($$UPDATE benefit.benefit SET all_channels = false WHERE code = 'pub'$$, '55000',
                 'this change would leave live benefit "pub" incomplete', 'all_channels cannot be switched off leaving no channel');
SELECT lives_ok($$SET CONSTRAINTS benefit.benefit_channel_live_complete_trg DEFERRED;
                  DELETE FROM benefit.benefit_channel WHERE benefit_id = pg_temp.id('benefit', 'par');
                  CALL pg_temp.add_channel('par', 'web');
                  SET CONSTRAINTS benefit.benefit_channel_live_complete_trg IMMEDIATE$$,
                'channels can be swapped in one transaction with the check deferred');
SELECT lives_ok($$UPDATE benefit.benefit SET quota_total = 150, quota_per_order = NULL WHERE code = 'par'$$, 'quotas may be raised or removed while live');
SELECT throws_ok($$UPDATE benefit.benefit SET quota_total = 10 WHERE code = 'par'$$, '55000', 'cannot lower a quota of benefit "par"', 'a quota may not be lowered while live');
SELECT throws_ok($$UPDATE benefit.benefit SET quota_per_contact = 2 WHERE code = 'par'$$, '55000', 'cannot lower a quota of benefit "par"', 'a quota may not be added while live');
SELECT throws_ok($$CALL pg_temp.add_tariff('par', 900)$$, '55000', 'cannot change the tariff rows of live benefit "par"', 'no tariff row added while live');
SELECT throws_ok($$UPDATE benefit.benefit_tariff SET price_cents = 1 WHERE benefit_id = pg_temp.id('benefit', 'par')$$, '55000', 'cannot change the tariff rows of live benefit "par"', 'no tariff row changed while live');
SELECT throws_ok($$DELETE FROM benefit.benefit_tariff WHERE benefit_id = pg_temp.id('benefit', 'par')$$, '55000', 'cannot change the tariff rows of live benefit "par"', 'no tariff row deleted while live');
SELECT throws_ok($$UPDATE benefit.benefit SET access_code = 'LEAKED' WHERE code = 'par'$$, '55000', 'cannot change the access code, point of sale or units per code of live benefit "par"', 'access code frozen while live');
SELECT throws_ok($$UPDATE benefit.benefit SET target_type = 'public', access_code = NULL WHERE code = 'par'$$, '55000', 'cannot change the code, season or target of benefit "par"', 'target type frozen once live');
SELECT throws_ok($$UPDATE benefit.benefit SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's25') WHERE code = 'par'$$, '55000', 'cannot change the code, season or target of benefit "par"', 'season frozen once live');
SELECT throws_ok($$UPDATE benefit.benefit SET code = 'par2' WHERE code = 'par'$$, '55000', 'cannot change the code, season or target of benefit "par"', 'code frozen once live');
SELECT throws_ok($$DELETE FROM benefit.benefit WHERE code = 'par'$$, '55000', 'cannot delete benefit "par"', 'a live benefit cannot be deleted');

-- 5. suspended: the maintenance state
SELECT is(benefit.suspend(pg_temp.id('benefit', 'par')), 'suspended', 'live -> suspended for maintenance');
SELECT lives_ok($$UPDATE benefit.benefit_tariff SET price_cents = 1000 WHERE benefit_id = pg_temp.id('benefit', 'par')$$, 'tariff rows may change while suspended');
SELECT lives_ok($$UPDATE benefit.benefit SET access_code = 'FRIENDS-2027' WHERE code = 'par'$$, 'the access code may be rotated while suspended');
SELECT throws_ok($$UPDATE benefit.benefit SET quota_total = 10 WHERE code = 'par'$$, '55000', 'cannot lower a quota of benefit "par"', 'a quota may not be lowered while suspended');
DELETE FROM benefit.benefit_tariff WHERE benefit_id = pg_temp.id('benefit', 'par');
SELECT throws_ok($$SELECT benefit.go_live(pg_temp.id('benefit', 'par'))$$, '55000', 'benefit "par" cannot go live', 'going live again re-runs the checks');
CALL pg_temp.add_tariff('par', 1000);
SELECT is(benefit.go_live(pg_temp.id('benefit', 'par')), 'live', 'back live once fixed');

-- 6. closed is final
SELECT is(benefit.close(pg_temp.id('benefit', 'par')), 'closed', 'live -> closed');
SELECT is(benefit.close(pg_temp.id('benefit', 'con')), 'closed', 'draft -> closed');
SELECT throws_ok($$SELECT benefit.go_live(pg_temp.id('benefit', 'par'))$$, '55000', 'benefit "par" cannot go from closed to live', 'closed -> live refused');
SELECT lives_ok($$UPDATE benefit.benefit SET name = 'Friends (ended)' WHERE code = 'par'$$, 'name may change once closed');
SELECT throws_ok($$UPDATE benefit.benefit SET valid_until = '2027-01-01' WHERE code = 'par'$$, '55000', 'benefit "par" is closed', 'validity frozen once closed');
SELECT throws_ok($$CALL pg_temp.add_channel('par', 'box-office')$$, '55000', 'cannot change the channels of closed benefit "par"', 'channels frozen once closed');
SELECT throws_ok($$DELETE FROM benefit.benefit WHERE code = 'par'$$, '55000', 'cannot delete benefit "par"', 'a closed benefit cannot be deleted');

-- 7. drafts can be deleted with their rows; the history records every transition
CALL pg_temp.add_tariff('ind', 500);
SELECT lives_ok($$DELETE FROM benefit.benefit WHERE code = 'ind'$$, 'a draft benefit can be deleted, tariff rows with it');
SELECT is_empty($$SELECT 1 FROM benefit.benefit_tariff t WHERE NOT EXISTS (SELECT 1 FROM benefit.benefit b WHERE b.benefit_id = t.benefit_id)$$, 'no orphan tariff rows');
SELECT results_eq($$SELECT coalesce(from_status::text, '-') || '>' || to_status FROM benefit.benefit_status_history
                     WHERE benefit_id = pg_temp.id('benefit', 'par') ORDER BY history_id$$,
                  ARRAY['->draft', 'draft>live', 'live>suspended', 'suspended>live', 'live>closed'],
                  'every transition of the partner benefit is in the history');
SELECT is((SELECT count(DISTINCT changed_by)::int FROM benefit.benefit_status_history WHERE changed_by = current_user), 1, 'the history records who');
SELECT throws_ok($$INSERT INTO benefit.benefit (code, name, season_id, target_type, status) SELECT 'x', 'x', season_id, 'public', 'live' FROM benefit.season LIMIT 1$$,
                 '55000', 'new benefit "x" must start as draft', 'a benefit cannot be inserted live');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
