-- bench/p2_prepare.sql: P2 set-up, run once by bench/run.  A hot public benefit on the bench
-- product (quota 20,000, 20 % off, every channel), a web channel, and the single-row counter of
-- the baseline (bench.counter1: one row).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web') ON CONFLICT DO NOTHING;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
SELECT 'hot', 'Hot benefit', season_id, 'public', true, 20000 FROM benefit.season WHERE code = 'bench';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
SELECT b.benefit_id, p.product_id, 20 FROM benefit.benefit b, benefit.product p WHERE b.code = 'hot' AND p.code = 'bench';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'hot' \g /dev/null
CREATE TABLE bench.counter1 (id integer PRIMARY KEY, used integer NOT NULL, cap integer NOT NULL) WITH (fillfactor = 50);
-- the cap is out of reach during a timed run (like the hot benefit's 20,000 units for our
-- call): once a counter is at its cap, every UPDATE finds nothing to do and stops queueing
INSERT INTO bench.counter1 VALUES (1, 0, 2000000000);
-- what each hold of the sell-out run returned
CREATE TABLE bench.p2_outcome (order_ref text, got_benefit boolean, reason text, confirm text,
                               started timestamptz, done timestamptz);
CREATE FUNCTION bench.hot() RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT benefit_id FROM benefit.benefit WHERE code = 'hot' $$;
CREATE FUNCTION bench.line1() RETURNS benefit.basket_line[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT ARRAY[ROW(p.product_id, NULL, NULL, NULL, 1, 2000)::benefit.basket_line] FROM benefit.product p WHERE p.code = 'bench' $$;
