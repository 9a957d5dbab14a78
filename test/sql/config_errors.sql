-- config_errors: every configuration error a DBA can make with a plain
-- INSERT or UPDATE is refused with a SQLSTATE and a message naming the field
-- (through the constraint name <table>_<column>_check/_fkey/_key).  One line
-- per error; try() prints "SQLSTATE message [constraint] detail".
\set VERBOSITY terse
\pset format unaligned
\pset tuples_only on
BEGIN;
CREATE EXTENSION benefit;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; con text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, con = CONSTRAINT_NAME;
    RETURN st || ' ' || msg
        || CASE WHEN st IN ('23503', '23505') THEN ' / ' || det ELSE '' END;
END $$;

-- A minimal valid configuration the error lines build on.
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s26', 'Season 2026-27', '2026-09-01', '2027-06-30');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office'), ('web', 'Web', 'web');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'shop', 'Shop', channel_id FROM benefit.sales_channel WHERE code = 'web';
INSERT INTO benefit.product_family (code, name) VALUES ('tickets', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'hamlet', 'Hamlet', f.family_id, s.season_id FROM benefit.product_family f, benefit.season s;
INSERT INTO benefit.performance (code, product_id, starts_at) SELECT 'hamlet-1', product_id, '2026-10-01 20:00+02' FROM benefit.product;
INSERT INTO benefit.seat_category (code, name) VALUES ('stalls', 'Stalls');
INSERT INTO benefit.audience (code, name) VALUES ('adult', 'Adult');
INSERT INTO benefit.contact (kind, name, email) VALUES ('person', 'Ada', 'ada@example.org');
INSERT INTO benefit.indicator (code, name) VALUES ('loyalty', 'Loyalty');
INSERT INTO benefit.indicator_level (indicator_id, code, name) SELECT indicator_id, 'gold', 'Gold' FROM benefit.indicator;
INSERT INTO benefit.indicator (code, name) VALUES ('other', 'Other');
INSERT INTO benefit.campaign (code, name) VALUES ('spring', 'Spring mailing');
INSERT INTO benefit.benefit (code, name, season_id, target_type) SELECT 'pub', 'Public', season_id, 'public' FROM benefit.season;
INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('WELCOME10', 'Welcome', 10);

-- seasons
SELECT pg_temp.try($$INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s27', 'Bad', '2027-09-01', '2027-08-01')$$);
SELECT pg_temp.try($$INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s26', 'Dup', '2026-09-01', '2027-06-30')$$);
SELECT pg_temp.try($$INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('bad code', 'Bad', '2026-09-01', '2027-06-30')$$);
SELECT pg_temp.try($$INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s28', '  ', '2026-09-01', '2027-06-30')$$);
SELECT pg_temp.try($$INSERT INTO benefit.season (code, name, starts_on) VALUES ('s29', 'No end', '2026-09-01')$$);
-- channels and points of sale
SELECT pg_temp.try($$INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('tel', 'Phone', 'telephone')$$);
SELECT pg_temp.try($$INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Again', 'box_office')$$);
SELECT pg_temp.try($$INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'kiosk', 'Kiosk', channel_id FROM benefit.sales_channel WHERE code = 'box'$$);
SELECT pg_temp.try($$INSERT INTO benefit.point_of_sale (code, name, channel_id, channel_kind) SELECT 'kiosk', 'Kiosk', channel_id, 'box_office' FROM benefit.sales_channel WHERE code = 'box'$$);
SELECT pg_temp.try($$UPDATE benefit.sales_channel SET kind = 'box_office' WHERE code = 'web'$$);
-- catalogue
SELECT pg_temp.try($$INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'lear', 'Lear', 999, season_id FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'lear', 'Lear', family_id, 999 FROM benefit.product_family$$);
SELECT pg_temp.try($$INSERT INTO benefit.performance (code, product_id, starts_at, ends_at) SELECT 'hamlet-2', product_id, '2026-10-02 20:00+02', '2026-10-02 19:00+02' FROM benefit.product$$);
SELECT pg_temp.try($$INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, -1 FROM benefit.product$$);
SELECT pg_temp.try($$INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, 100000000001 FROM benefit.product$$);
SELECT pg_temp.try($$INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, NULL FROM benefit.product$$);
SELECT pg_temp.try($$INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, 2500 FROM benefit.product UNION ALL SELECT product_id, 2600 FROM benefit.product$$);
SELECT pg_temp.try($$INSERT INTO benefit.base_price (product_id, performance_id, price_cents) SELECT p.product_id, 999, 2500 FROM benefit.product p$$);
-- contacts, indicators, campaigns
SELECT pg_temp.try($$INSERT INTO benefit.contact (kind, name, email) VALUES ('company', 'Acme', 'a@b.org')$$);
SELECT pg_temp.try($$INSERT INTO benefit.contact (kind, name, email) VALUES ('person', 'Bob', 'not-an-email')$$);
SELECT pg_temp.try($$INSERT INTO benefit.contact (kind, name, language) VALUES ('person', 'Bob', 'french')$$);
SELECT pg_temp.try($$INSERT INTO benefit.contact (kind, name) VALUES ('person', '')$$);
SELECT pg_temp.try($$INSERT INTO benefit.indicator_level (indicator_id, code, name) SELECT indicator_id, 'gold', 'Gold again' FROM benefit.indicator WHERE code = 'loyalty'$$);
SELECT pg_temp.try($$INSERT INTO benefit.contact_indicator (contact_id, indicator_id, level_id) SELECT c.contact_id, i.indicator_id, l.level_id FROM benefit.contact c, benefit.indicator i, benefit.indicator_level l WHERE i.code = 'other'$$);
SELECT pg_temp.try($$INSERT INTO benefit.campaign_target (campaign_id, contact_id) SELECT campaign_id, 999 FROM benefit.campaign$$);
-- benefits
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type) SELECT 'x', 'X', season_id, 'everyone' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type) VALUES ('x', 'X', 999, 'public')$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type) SELECT 'pub', 'Again', season_id, 'public' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, access_code) SELECT 'x', 'X', season_id, 'public', 'SECRET' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, access_code) SELECT 'x', 'X', season_id, 'partner', 'no spaces' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, campaign_id) SELECT 'x', 'X', s.season_id, 'public', c.campaign_id FROM benefit.season s, benefit.campaign c$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, indicator_level_id) SELECT 'x', 'X', s.season_id, 'contacts', l.level_id FROM benefit.season s, benefit.indicator_level l$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, point_of_sale_id) SELECT 'x', 'X', s.season_id, 'partner', p.point_of_sale_id FROM benefit.season s, benefit.point_of_sale p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, valid_from, valid_until) SELECT 'x', 'X', season_id, 'public', '2026-10-01', '2026-09-01' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total) SELECT 'x', 'X', season_id, 'public', 0 FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, quota_per_contact) SELECT 'x', 'X', season_id, 'public', 10, 11 FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_per_order) SELECT 'x', 'X', season_id, 'public', -2 FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, quota_total, quota_per_performance) SELECT 'x', 'X', season_id, 'public', 5, 6 FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, status) SELECT 'x', 'X', season_id, 'public', 'live' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit (code, name, season_id, target_type, access_code) SELECT 'p1', 'P1', season_id, 'partner'::benefit.target_type, 'FRIENDS' FROM benefit.season UNION ALL SELECT 'p2', 'P2', season_id, 'partner', 'friends' FROM benefit.season$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_channel (benefit_id, channel_id) SELECT benefit_id, 999 FROM benefit.benefit$$);
-- tariff rows
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id) SELECT b.benefit_id, p.product_id FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents, percent_off) SELECT b.benefit_id, p.product_id, 1000, 10 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents) SELECT b.benefit_id, p.product_id, -5 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, amount_off_cents) SELECT b.benefit_id, p.product_id, 0 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT b.benefit_id, p.product_id, 100.5 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT b.benefit_id, p.product_id, 0 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT b.benefit_id, p.product_id, 1000 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT b.benefit_id, p.product_id, 12.345 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, performance_id, price_cents) SELECT b.benefit_id, p.product_id, 999, 10 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents) SELECT b.benefit_id, p.product_id, 10 FROM benefit.benefit b, benefit.product p UNION ALL SELECT b.benefit_id, p.product_id, 20 FROM benefit.benefit b, benefit.product p$$);
SELECT pg_temp.try($$INSERT INTO benefit.benefit_tariff (benefit_id, product_id, seat_category_id, price_cents) SELECT b.benefit_id, p.product_id, 999, 10 FROM benefit.benefit b, benefit.product p$$);
-- promo codes
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('welcome10', 'Same code other case', 5)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off, amount_off_cents) VALUES ('BOTH', 'Both', 5, 500)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name) VALUES ('NONE', 'Neither')$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('X', 'Too short', 5)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('HAS SPACE', 'Space', 5)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('BIG', 'Too big', 150)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, amount_off_cents) VALUES ('NEG', 'Negative', -100)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off, min_basket_cents) VALUES ('MIN', 'Min', 5, -1)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off, valid_from, valid_until) VALUES ('WIN', 'Window', 5, '2026-12-01', '2026-11-01')$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off, max_uses_total) VALUES ('LIM', 'Limit', 5, 0)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off, max_uses_total, max_uses_per_contact) VALUES ('LIM', 'Limit', 5, 10, 20)$$);
SELECT pg_temp.try($$INSERT INTO benefit.promo_code (code, name, percent_off, indicator_level_id) VALUES ('IND', 'Indicator', 5, 999)$$);
-- lifecycle functions on unknown ids and NULLs
SELECT pg_temp.try($$SELECT benefit.go_live(999)$$);
SELECT pg_temp.try($$SELECT benefit.suspend(999)$$);
SELECT benefit.go_live(NULL) IS NULL AS go_live_null_is_null;
ROLLBACK;
