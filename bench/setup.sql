-- bench/setup.sql: configuration the benchmarks need, on a throw-away cluster (run by bench/run).
-- A live single-use benefit (wide season, one product, one tariff row, all channels, active on
-- the web shop bench-shop, large quota) and an organisation contact with an e-mail, so generate_codes and redeem_code work;
-- schema bench holds the comparison tables.  Everything is looked up by code 'bench'.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE EXTENSION benefit;
CREATE EXTENSION pg_prewarm;
CREATE SCHEMA bench;

INSERT INTO benefit.season (code, name, starts_on, ends_on)
VALUES ('bench', 'Benchmark season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.product_family (code, name) VALUES ('bench', 'Benchmark family');
INSERT INTO benefit.product (code, name, family_id, season_id)
SELECT 'bench', 'Benchmark product', f.family_id, s.season_id
  FROM benefit.product_family f, benefit.season s
 WHERE f.code = 'bench' AND s.code = 'bench';
-- the web channel and its shop first: a single-use benefit sold on the web (all channels) is
-- active on one web point of sale
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web');
INSERT INTO benefit.point_of_sale (code, name, channel_id)
SELECT 'bench-shop', 'Benchmark shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, valid_from, point_of_sale_id)
SELECT 'bench', 'Benchmark single-use codes', s.season_id, 'single_use', true, 1000000000, '2000-01-01', p.point_of_sale_id
  FROM benefit.season s, benefit.point_of_sale p WHERE s.code = 'bench' AND p.code = 'bench-shop';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
SELECT b.benefit_id, p.product_id, 10
  FROM benefit.benefit b, benefit.product p
 WHERE b.code = 'bench' AND p.code = 'bench';
-- go_live raises 55000 (and ON_ERROR_STOP ends the run) if anything is missing
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'bench' \g /dev/null
INSERT INTO benefit.contact (kind, name, email, external_ref)
VALUES ('organisation', 'Benchmark organisation', 'bench@example.org', 'bench');
