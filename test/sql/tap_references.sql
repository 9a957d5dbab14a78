-- tap_references: a live benefit stays complete when the rows it refers to
-- change.  Moving a product or a campaign to another season, shrinking a
-- season, moving a point of sale to another channel, changing a channel's
-- kind or adding the first web channel is refused when it would give a live
-- benefit a problem that going live refuses; the same edit passes once the
-- benefit is suspended, and an edit that leaves every live benefit complete
-- passes.  The catalogue is the shared one (test/fixtures/catalogue.sql), its
-- campaign moved to a season of the file's own, s26 (2026-09-01 to
-- 2027-06-30, product hamlet), with s27 the season after; the DBA
-- (superuser) builds it; the edits and lifecycle calls under test run as a
-- login granted only benefit_admin.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(18);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

INSERT INTO benefit.season (code, name, starts_on, ends_on)
VALUES ('s26', 'Season 2026-27', '2026-09-01', '2027-06-30'), ('s27', 'Season 2027-28', '2027-09-01', '2028-06-30');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'hamlet', 'Hamlet', f.family_id, s.season_id FROM benefit.product_family f, benefit.season s WHERE f.code = 'tickets' AND s.code = 's26';

-- 0. while there is no web channel, a single-use benefit on all channels needs no point of sale;
-- the first web channel would change that (the DBA takes the fixture's web channel away first)
DELETE FROM benefit.point_of_sale WHERE code = 'shop';
DELETE FROM benefit.sales_channel WHERE code = 'web';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
    SELECT 'solo', 'solo', season_id, 'single_use', true, 10 FROM benefit.season WHERE code = 's26';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
    SELECT b.benefit_id, p.product_id, 500 FROM benefit.benefit b, benefit.product p WHERE b.code = 'solo' AND p.code = 'hamlet';
SET ROLE tap_admin;
SELECT is(benefit.go_live(benefit_id), 'live', 'a single-use benefit on all channels goes live without a point of sale while no channel is web')
  FROM benefit.benefit WHERE code = 'solo';
SELECT throws_ok($$INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web')$$,
                 '55000', 'this change would leave live benefit "solo" incomplete',
                 'a new web channel cannot join a live single-use benefit sold on all channels without a web point of sale');
DO $$ BEGIN PERFORM benefit.close(benefit_id) FROM benefit.benefit WHERE code = 'solo'; END $$;
RESET ROLE;

INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web'), ('web2', 'Second web shop', 'web');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'shop', 'Shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
UPDATE benefit.campaign SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's26') WHERE code = 'rentree';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, valid_from, campaign_id, point_of_sale_id, quota_total)
SELECT v.code, v.code, s.season_id, v.t::benefit.target_type, v.code = 'pub', v.valid_from::timestamptz,
       CASE WHEN v.t = 'contacts' THEN (SELECT campaign_id FROM benefit.campaign) END,
       CASE WHEN v.t = 'single_use' THEN (SELECT point_of_sale_id FROM benefit.point_of_sale) END,
       CASE WHEN v.t = 'single_use' THEN 100 END
  FROM benefit.season s,
       (VALUES ('pub', 'public', '2027-01-01'), ('con', 'contacts', NULL), ('one', 'single_use', NULL)) v(code, t, valid_from)
 WHERE s.code = 's26';
INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
SELECT b.benefit_id, c.channel_id FROM benefit.benefit b, benefit.sales_channel c
 WHERE (b.code, c.code) IN (('con', 'box-office'), ('one', 'web'));
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
SELECT benefit_id, product_id, 1000 FROM benefit.benefit, benefit.product WHERE benefit.code <> 'solo' AND product.code = 'hamlet';
CREATE PROCEDURE pg_temp.set_status(codes text[], to_status benefit.benefit_status) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM benefit.set_status(b.benefit_id, to_status) FROM benefit.benefit b WHERE b.code = ANY (codes) ORDER BY b.benefit_id;
END $$;
CALL pg_temp.set_status('{pub,con,one}', 'live');

CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

-- 1. edits that would break a live benefit are refused, naming it and the problem
SET ROLE tap_admin;
SELECT throws_ok($$UPDATE benefit.season SET ends_on = '2026-12-31' WHERE code = 's26'$$,
                 '55000', 'this change would leave live benefit "pub" incomplete',
                 'a season cannot end before a live benefit''s validity starts');
SELECT is(pg_temp.detail_of($$UPDATE benefit.season SET ends_on = '2026-12-31' WHERE code = 's26'$$),
          'valid_from: the validity starts after the season ends (2026-12-31)', 'the DETAIL names the field and the problem');
SELECT throws_ok($$UPDATE benefit.product SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's27') WHERE code = 'hamlet'$$,
                 '55000', 'this change would leave live benefit "pub" incomplete',
                 'a product cannot move to another season than the live benefits priced on it');
SELECT is(pg_temp.detail_of($$UPDATE benefit.product SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's27') WHERE code = 'hamlet'$$),
          'tariff: product hamlet is in another season than the benefit', 'the DETAIL names the product');
SELECT throws_ok($$UPDATE benefit.campaign SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's27') WHERE code = 'rentree'$$,
                 '55000', 'this change would leave live benefit "con" incomplete',
                 'a campaign cannot move to another season than its live benefit');
SELECT throws_ok($$UPDATE benefit.point_of_sale SET channel_id = (SELECT channel_id FROM benefit.sales_channel WHERE code = 'web2') WHERE code = 'shop'$$,
                 '55000', 'this change would leave live benefit "one" incomplete',
                 'a point of sale cannot move off the channels of its live single-use benefit');
-- a single-use benefit on the box office needs no web point of sale; the box office turned web would
CALL pg_temp.set_status('{one}', 'suspended');
UPDATE benefit.benefit SET point_of_sale_id = NULL WHERE code = 'one';
UPDATE benefit.benefit_channel SET channel_id = (SELECT channel_id FROM benefit.sales_channel WHERE code = 'box-office')
 WHERE benefit_id = (SELECT benefit_id FROM benefit.benefit WHERE code = 'one');
CALL pg_temp.set_status('{one}', 'live');
SELECT throws_ok($$UPDATE benefit.sales_channel SET kind = 'web' WHERE code = 'box-office'$$,
                 '55000', 'this change would leave live benefit "one" incomplete',
                 'a channel cannot turn web under a live single-use benefit without a web point of sale');
SELECT results_eq($$SELECT to_char(s.ends_on, 'YYYY-MM-DD') || ' ' || p.season_id::text || ' ' || c.season_id::text
                      FROM benefit.season s, benefit.product p, benefit.campaign c WHERE s.code = 's26' AND p.code = 'hamlet'$$,
                  $$SELECT '2027-06-30 ' || season_id || ' ' || season_id FROM benefit.season WHERE code = 's26'$$,
                  'the refused edits left every row as it was');

-- 2. edits that keep every live benefit complete pass
SELECT lives_ok($$UPDATE benefit.season SET ends_on = '2027-07-31' WHERE code = 's26'$$, 'a season may grow under live benefits');
SELECT lives_ok($$UPDATE benefit.sales_channel SET kind = 'reseller' WHERE code = 'web2'$$,
                'a channel no live benefit depends on may change kind');
SELECT lives_ok($$UPDATE benefit.product SET name = 'Hamlet (new cast)' WHERE code = 'hamlet'$$, 'other product columns change freely');
-- the check can wait for the end of the transaction (or SET CONSTRAINTS ... IMMEDIATE)
SELECT lives_ok($$SET CONSTRAINTS benefit.season_live_refs_trg DEFERRED;
                  UPDATE benefit.season SET ends_on = '2026-12-31' WHERE code = 's26';
                  UPDATE benefit.season SET ends_on = '2027-08-31' WHERE code = 's26';
                  SET CONSTRAINTS benefit.season_live_refs_trg IMMEDIATE$$,
                'the reference checks are deferrable: only the state at check time counts');

-- 3. once suspended or closed, the benefits no longer hold the rows back
CALL pg_temp.set_status('{pub,con}', 'suspended');
SELECT lives_ok($$UPDATE benefit.campaign SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's27') WHERE code = 'rentree'$$,
                'a campaign moves once its benefit is suspended');
SELECT throws_ok($$SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'con'$$, '55000',
                 'benefit "con" cannot go live', 'going live again sees the moved campaign');
CALL pg_temp.set_status('{one}', 'closed');
SELECT lives_ok($$UPDATE benefit.sales_channel SET kind = 'web' WHERE code = 'box-office'$$, 'a closed benefit holds nothing back');
SELECT lives_ok($$UPDATE benefit.product SET season_id = (SELECT season_id FROM benefit.season WHERE code = 's27') WHERE code = 'hamlet'$$,
                'a product moves once no live benefit is priced on it');

RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
