-- bench/p2_prepare.sql: P2 set-up, run once by bench/run.  A hot public benefit on the bench
-- product (20 % off, every channel, quota 20,000 for the sell-out run; bench/run raises it out of
-- reach before the timed runs), a web channel; the hand-written two-phase purchase's tables
-- (bench.p2_counter: 64 counter rows, bench.p2_hold: one row per order, primary key on the order
-- reference); the single-row counter of the slot reference (bench.counter1).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web') ON CONFLICT DO NOTHING;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
SELECT 'hot', 'Hot benefit', season_id, 'public', true, 20000 FROM benefit.season WHERE code = 'bench';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
SELECT b.benefit_id, p.product_id, 20 FROM benefit.benefit b, benefit.product p WHERE b.code = 'hot' AND p.code = 'bench';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'hot' \g /dev/null

-- The hand-written two-phase purchase: a counter row with held/used/cap (as benefit.counter,
-- fillfactor 50) and a hold row per order (as benefit.order_hold: primary key on the order
-- reference, no index on a column that changes, fillfactor 70, so that the confirm stays HOT).
-- Row 1 is the hot row every buyer updates; rows 1..64 give each client its own row (the floor).
-- The caps are out of reach during a timed run.
CREATE TABLE bench.p2_counter (id integer PRIMARY KEY, held integer NOT NULL, used integer NOT NULL,
                               cap integer NOT NULL, CHECK (held >= 0 AND held + used <= cap))
    WITH (fillfactor = 50);
INSERT INTO bench.p2_counter SELECT i, 0, 0, 2000000000 FROM generate_series(1, 64) i;
CREATE TABLE bench.p2_hold (order_ref text PRIMARY KEY, counter_id integer NOT NULL, units integer NOT NULL,
                            state text NOT NULL DEFAULT 'held', held_until timestamptz NOT NULL,
                            created_at timestamptz NOT NULL DEFAULT now(), closed_at timestamptz)
    WITH (fillfactor = 70);

-- the slot reference's single-row counter; its cap is out of reach too: once a counter is at its
-- cap, every UPDATE finds nothing to do and stops queueing
CREATE TABLE bench.counter1 (id integer PRIMARY KEY, used integer NOT NULL, cap integer NOT NULL) WITH (fillfactor = 50);
INSERT INTO bench.counter1 VALUES (1, 0, 2000000000);
-- what each hold of the sell-out run returned
CREATE TABLE bench.p2_outcome (order_ref text, got_benefit boolean, reason text, confirm text,
                               started timestamptz, done timestamptz);
CREATE FUNCTION bench.hot() RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT benefit_id FROM benefit.benefit WHERE code = 'hot' $$;
CREATE FUNCTION bench.line1() RETURNS benefit.basket_line[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT ARRAY[ROW(p.product_id, NULL, NULL, NULL, 1, 2000)::benefit.basket_line] FROM benefit.product p WHERE p.code = 'bench' $$;
