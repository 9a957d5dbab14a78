/*
 * benefit 0.1.0 -> 0.2.0
 *
 * Run by ALTER EXTENSION benefit UPDATE, and by CREATE EXTENSION benefit
 * after the frozen 0.1.0 install script.  Functions whose body changes are
 * replaced with CREATE OR REPLACE: PostgreSQL only lets an extension script
 * replace objects that already belong to the extension.
 */
\echo Use "ALTER EXTENSION benefit UPDATE TO '0.2.0'" to load this file. \quit

COMMENT ON COLUMN benefit.promo_code.season_id IS
    'Season the code belongs to, for reporting (promo_usage); it does not restrict the products of the basket';

-- The audit columns are written by the extension only: benefit_admin
-- inserts and updates benefits, contacts and promo codes column by column,
-- without created_at, status_changed_at, status_changed_by and revision.
REVOKE INSERT, UPDATE ON benefit.benefit, benefit.contact, benefit.promo_code FROM benefit_admin;
GRANT INSERT (code, name, description, season_id, target_type, campaign_id, indicator_level_id, access_code,
              point_of_sale_id, valid_from, valid_until, all_channels, quota_total, quota_per_performance,
              quota_per_contact, quota_per_order, status),
      UPDATE (code, name, description, season_id, target_type, campaign_id, indicator_level_id, access_code,
              point_of_sale_id, valid_from, valid_until, all_channels, quota_total, quota_per_performance,
              quota_per_contact, quota_per_order, status)
    ON benefit.benefit TO benefit_admin;
GRANT INSERT (kind, name, email, language, external_ref), UPDATE (kind, name, email, language, external_ref)
    ON benefit.contact TO benefit_admin;
GRANT INSERT (code, name, season_id, percent_off, amount_off_cents, valid_from, valid_until, all_channels,
              min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact, is_active),
      UPDATE (code, name, season_id, percent_off, amount_off_cents, valid_from, valid_until, all_channels,
              min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact, is_active)
    ON benefit.promo_code TO benefit_admin;
