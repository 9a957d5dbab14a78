-- test/new_rows.sql: after a restore or an upgrade, a new row goes into every
-- table with an identity key (no collision with a kept id), a benefit goes
-- live, and a basket is held and confirmed with it.  Used by
-- test/dump_restore.sh and test/upgrade.sh; fails at the first error.
BEGIN;
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('after-restore', 'After restore', '2027-09-01', '2028-06-30');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('after-restore', 'Kiosk', 'other');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'after-restore', 'Shop 2', channel_id FROM benefit.sales_channel WHERE kind = 'web' LIMIT 1;
INSERT INTO benefit.product_family (code, name) VALUES ('after-restore', 'Family');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'after-restore', 'Product', f.family_id, s.season_id FROM benefit.product_family f, benefit.season s WHERE f.code = 'after-restore' AND s.code = 'after-restore';
INSERT INTO benefit.performance (code, product_id, starts_at) SELECT 'after-restore', product_id, '2027-10-01 20:00+02' FROM benefit.product WHERE code = 'after-restore';
INSERT INTO benefit.seat_category (code, name) VALUES ('after-restore', 'Seats');
INSERT INTO benefit.audience (code, name) VALUES ('after-restore', 'Audience');
INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, 1000 FROM benefit.product WHERE code = 'after-restore';
INSERT INTO benefit.contact (kind, name) VALUES ('person', 'After Restore');
INSERT INTO benefit.indicator (code, name) VALUES ('after-restore', 'Indicator');
INSERT INTO benefit.indicator_level (indicator_id, code, name) SELECT indicator_id, 'one', 'One' FROM benefit.indicator WHERE code = 'after-restore';
INSERT INTO benefit.campaign (code, name) VALUES ('after-restore', 'Campaign');
INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('AFTER-RESTORE', 'Promo', 5);
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels) SELECT 'after-restore', 'Benefit', season_id, 'public', true FROM benefit.season WHERE code = 'after-restore';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT b.benefit_id, p.product_id, 10 FROM benefit.benefit b, benefit.product p WHERE b.code = 'after-restore' AND p.code = 'after-restore';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'after-restore';
DO $$
DECLARE
    r record;
BEGIN
    SELECT h.reason, (h.lines[1]).benefit_id IS NOT NULL AS priced INTO r
      FROM benefit.product p,
           benefit.hold('after-restore', ARRAY[ROW(p.product_id, NULL, NULL, NULL, 2, 1000)::benefit.basket_line],
                        NULL, 'after-restore', now() + interval '1 hour') h
     WHERE p.code = 'after-restore';
    IF r.reason <> 'ok' OR NOT r.priced THEN
        RAISE EXCEPTION 'hold: %, priced with the benefit: %', r.reason, r.priced;
    END IF;
    IF benefit.confirm('after-restore') <> 'ok' THEN
        RAISE EXCEPTION 'confirm refused';
    END IF;
END
$$;
COMMIT;
