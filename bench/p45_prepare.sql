-- bench/p45_prepare.sql: P4 and P5 set-up, run once by bench/run (about a minute).
-- 1,000,000 person contacts (ids 2 .. 1,000,001); 5 indicators of 10 levels, every contact with
-- a level of each (5,000,000 rows); 9,940 campaigns with 200,000 targets in all; 10,000 live
-- benefits on the bench product: 10 public, 50 indicator (one per level), 9,940 contacts (one per
-- campaign).  For P5: a partner benefit (code BENCHPARTNER, 30 % off), the live single-use
-- benefit "bench" with one unused code in bench.p5_code, and a promo code BENCHPROMO (10 %).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web') ON CONFLICT DO NOTHING;
\ir contacts.sql
INSERT INTO benefit.indicator (code, name) SELECT 'ind' || i, 'Indicator ' || i FROM generate_series(1, 5) i;
INSERT INTO benefit.indicator_level (indicator_id, code, name)
SELECT i.indicator_id, 'l' || l, 'Level ' || l FROM benefit.indicator i, generate_series(1, 10) l;
INSERT INTO benefit.contact_indicator (contact_id, indicator_id, level_id)
SELECT c.contact_id, l.indicator_id, l.level_id
  FROM benefit.contact c
  JOIN benefit.indicator_level l ON l.code = 'l' || (1 + (hashint8(c.contact_id * 7 + l.indicator_id) & 1023) % 10)
 WHERE c.kind = 'person';
INSERT INTO benefit.campaign (code, name) SELECT 'camp' || i, 'Campaign ' || i FROM generate_series(1, 9940) i;
INSERT INTO benefit.campaign_target (campaign_id, contact_id)
SELECT DISTINCT (SELECT min(campaign_id) FROM benefit.campaign) + (g % 9940),
       2 + (hashint8(g) & 1073741823) % 1000000
  FROM generate_series(1, 200000) g
ON CONFLICT DO NOTHING;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, campaign_id, indicator_level_id)
SELECT 'pub' || i, 'Public ' || i, s.season_id, 'public'::benefit.target_type, true, NULL::bigint, NULL::bigint FROM benefit.season s, generate_series(1, 10) i WHERE s.code = 'bench'
UNION ALL
SELECT 'ind-' || l.level_id, 'Indicator level ' || l.level_id, s.season_id, 'indicator', true, NULL, l.level_id
  FROM benefit.season s, benefit.indicator_level l WHERE s.code = 'bench'
UNION ALL
SELECT 'camp-' || k.campaign_id, 'Campaign ' || k.campaign_id, s.season_id, 'contacts', true, k.campaign_id, NULL
  FROM benefit.season s, benefit.campaign k WHERE s.code = 'bench';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, access_code, quota_total)
SELECT 'partner', 'Partner', season_id, 'partner', true, 'BENCHPARTNER', 1000000 FROM benefit.season WHERE code = 'bench';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
SELECT b.benefit_id, p.product_id, CASE WHEN b.code = 'partner' THEN 30 ELSE 5 + b.benefit_id % 10 END
  FROM benefit.benefit b, benefit.product p
 WHERE p.code = 'bench' AND b.status = 'draft';
SELECT count(benefit.go_live(benefit_id)) FROM benefit.benefit WHERE status = 'draft' \g /dev/null
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels) VALUES ('BENCHPROMO', 'Bench promo', 10, true);
SELECT count(*) = 0 AS need_codes FROM benefit.single_use_code WHERE state = 'issued' \gset
\if :need_codes
    SELECT benefit.generate_codes(b.benefit_id, c.contact_id, 10, 'bench', 'en')
      FROM benefit.benefit b, benefit.contact c WHERE b.code = 'bench' AND c.external_ref = 'bench' \g /dev/null
\endif
CREATE TABLE bench.p5_code AS SELECT code::text AS code FROM benefit.single_use_code WHERE state = 'issued' LIMIT 1;
CREATE FUNCTION bench.basket20() RETURNS benefit.basket_line[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT array_agg(ROW(p.product_id, NULL, NULL, NULL, 1 + i % 3, 1000 + 100 * i)::benefit.basket_line)
            FROM benefit.product p, generate_series(1, 20) i WHERE p.code = 'bench' $$;
VACUUM ANALYZE;
