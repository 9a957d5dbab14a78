-- bench/scaleout_prepare.sql: run as the DBA in every institution's database before the
-- scale-out benchmark (bench/scaleout_run): a product of its own and a public benefit on it
-- with a quota no run sells out (10^9), so that every purchase takes the benefit and writes
-- its counters; prints the product's id (the pgbench scripts get it as :pid).
INSERT INTO benefit.product (code, name, family_id, season_id)
SELECT 'bench-show', 'Benchmark show', f.family_id, s.season_id
  FROM benefit.product_family f, benefit.season s
 WHERE f.code = 'tickets' AND s.code = '2026-27';
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
SELECT 'bench-public', 'Benchmark public benefit', s.season_id, 'public', true, 1000000000
  FROM benefit.season s WHERE s.code = '2026-27';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
SELECT b.benefit_id, p.product_id, 10 FROM benefit.benefit b, benefit.product p
 WHERE b.code = 'bench-public' AND p.code = 'bench-show';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'bench-public' \g /dev/null
SELECT product_id FROM benefit.product WHERE code = 'bench-show';
