-- 0.2.0: every role can use the code type; a mailer role; the catalogue a
-- till or web shop reads to build a basket; a comment on every view column.
--
-- 0.1.0 revoked EXECUTE on every function of the schema from PUBLIC and
-- granted the roles their entry points, but not the functions behind the
-- type benefit.code: a view or a query comparing codes, a text parameter
-- cast to benefit.code and a code cast to text then failed with 42501 for
-- every role but a superuser.  The roles are proven from login roles by
-- test/sql/tap_role_matrix.sql (everything README documents for each role
-- works, what it must not do fails with 42501) and test/sql/tap_mailer.sql.

--------------------------------------------------------------------------
-- The mailer role (cluster-wide; created when missing, never dropped)
--------------------------------------------------------------------------

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'benefit_mailer') THEN
        CREATE ROLE benefit_mailer NOLOGIN;
    END IF;
END
$roles$;

--------------------------------------------------------------------------
-- The code type: its support functions for every role
--------------------------------------------------------------------------

-- Why this is safe: these functions only turn a code the caller already has
-- into another form of the same code (text <-> benefit.code, binary send and
-- receive), or compare and hash codes the caller already has.  Their text
-- form tells the caller nothing it did not send, and none of them reads a
-- table.  benefit_sales still cannot list codes: it has no privilege on any
-- table holding codes (single_use_code, code_batch, code_history, ticket,
-- order_code) nor on batch_codes or the code views; benefit_report sees the
-- codes its views show, nothing more.  The mailer gets none of them:
-- batch_codes gives it the codes as text, and it reads no code column.
GRANT EXECUTE ON FUNCTION
    benefit.code_in(cstring), benefit.code_out(benefit.code),
    benefit.code_recv(internal), benefit.code_send(benefit.code),
    benefit.code_eq(benefit.code, benefit.code), benefit.code_ne(benefit.code, benefit.code),
    benefit.code_lt(benefit.code, benefit.code), benefit.code_le(benefit.code, benefit.code),
    benefit.code_gt(benefit.code, benefit.code), benefit.code_ge(benefit.code, benefit.code),
    benefit.code_cmp(benefit.code, benefit.code), benefit.code_sortsupport(internal),
    benefit.code_hash(benefit.code), benefit.code_hash_extended(benefit.code, bigint)
    TO benefit_admin, benefit_sales, benefit_report;
-- (USAGE on the type itself was granted to the three roles by 0.1.0, and
-- is_valid_code to benefit_admin and benefit_sales, where README documents it.)

--------------------------------------------------------------------------
-- The mailer: reads the outbox, exports a batch's codes, marks mails sent
--------------------------------------------------------------------------

-- batch_codes runs as the extension's owner, so that the mailer exports a
-- batch without any privilege on the codes table (benefit_admin, the other
-- role allowed to call it, can read that table anyway).  Same body as in
-- 0.1.0.
CREATE OR REPLACE FUNCTION benefit.batch_codes(batch_id bigint)
RETURNS TABLE (code text, benefit text, benefit_name text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT c.code::text, b.code, b.name
      FROM benefit.single_use_code c
      JOIN benefit.benefit b ON b.benefit_id = c.benefit_id
     WHERE c.batch_id = batch_codes.batch_id
     ORDER BY c.code;
END;
COMMENT ON FUNCTION benefit.batch_codes(bigint) IS
    'The codes of a batch, for the CSV mailed to the organisation: COPY (SELECT * FROM benefit.batch_codes(42)) TO STDOUT WITH CSV HEADER; runs as the extension owner, for benefit_admin and benefit_mailer';

-- LISTEN benefit_code_batch needs no privilege.  The mailer reads the
-- outbox (catch-up of the rows with sent_at IS NULL when it starts), exports
-- each batch and sets sent_at; it cannot generate codes, read contacts,
-- configuration, codes or history, nor change anything else of the outbox.
GRANT USAGE ON SCHEMA benefit TO benefit_mailer;
GRANT SELECT, UPDATE (sent_at) ON benefit.mail_outbox TO benefit_mailer;
GRANT EXECUTE ON FUNCTION benefit.batch_codes(bigint) TO benefit_mailer;

--------------------------------------------------------------------------
-- The sales catalogue: what a till or web shop needs to build a basket
--------------------------------------------------------------------------

-- Plain views over the catalogue tables, for benefit_sales (which reads no
-- table): the ids a benefit.basket_line takes, the codes the runtime calls
-- take (channel, point of sale), names, dates and base prices.  Nothing
-- about benefits, codes, contacts, orders or history.  They filter no rows,
-- so a caller's function in a WHERE clause has nothing hidden to leak.

CREATE VIEW benefit.catalogue_product AS
SELECT p.product_id,
       p.code,
       p.name,
       f.code AS family,
       f.name AS family_name,
       s.code AS season,
       s.name AS season_name
  FROM benefit.product p
  JOIN benefit.product_family f ON f.family_id = p.family_id
  JOIN benefit.season s ON s.season_id = p.season_id;
COMMENT ON VIEW benefit.catalogue_product IS
    'Sales catalogue: every product with its family and season (for benefit_sales: the product_id of a basket line)';
COMMENT ON COLUMN benefit.catalogue_product.product_id IS 'The product_id of a basket line';
COMMENT ON COLUMN benefit.catalogue_product.code IS 'Stable short code of the product';
COMMENT ON COLUMN benefit.catalogue_product.name IS 'Display name of the product';
COMMENT ON COLUMN benefit.catalogue_product.family IS 'Code of its product family (tickets, goods...)';
COMMENT ON COLUMN benefit.catalogue_product.family_name IS 'Display name of its product family';
COMMENT ON COLUMN benefit.catalogue_product.season IS 'Code of the season it is sold in';
COMMENT ON COLUMN benefit.catalogue_product.season_name IS 'Display name of the season it is sold in';

CREATE VIEW benefit.catalogue_performance AS
SELECT pf.performance_id,
       pf.code,
       pf.product_id,
       pf.starts_at,
       pf.ends_at
  FROM benefit.performance pf;
COMMENT ON VIEW benefit.catalogue_performance IS
    'Sales catalogue: every performance (dated occurrence) of a ticket product';
COMMENT ON COLUMN benefit.catalogue_performance.performance_id IS 'The performance_id of a basket line';
COMMENT ON COLUMN benefit.catalogue_performance.code IS 'Stable short code of the performance';
COMMENT ON COLUMN benefit.catalogue_performance.product_id IS 'The product it is a performance of (catalogue_product)';
COMMENT ON COLUMN benefit.catalogue_performance.starts_at IS 'When the performance starts';
COMMENT ON COLUMN benefit.catalogue_performance.ends_at IS 'When it ends, or NULL when not known';

CREATE VIEW benefit.catalogue_seat_category AS
SELECT sc.seat_category_id,
       sc.code,
       sc.name
  FROM benefit.seat_category sc;
COMMENT ON VIEW benefit.catalogue_seat_category IS 'Sales catalogue: the seat categories';
COMMENT ON COLUMN benefit.catalogue_seat_category.seat_category_id IS 'The seat_category_id of a basket line';
COMMENT ON COLUMN benefit.catalogue_seat_category.code IS 'Stable short code of the seat category';
COMMENT ON COLUMN benefit.catalogue_seat_category.name IS 'Display name of the seat category';

CREATE VIEW benefit.catalogue_audience AS
SELECT a.audience_id,
       a.code,
       a.name
  FROM benefit.audience a;
COMMENT ON VIEW benefit.catalogue_audience IS 'Sales catalogue: the audiences (adult, child, student...)';
COMMENT ON COLUMN benefit.catalogue_audience.audience_id IS 'The audience_id of a basket line';
COMMENT ON COLUMN benefit.catalogue_audience.code IS 'Stable short code of the audience';
COMMENT ON COLUMN benefit.catalogue_audience.name IS 'Display name of the audience';

CREATE VIEW benefit.catalogue_price AS
SELECT bp.product_id,
       bp.performance_id,
       bp.seat_category_id,
       bp.audience_id,
       bp.price_cents
  FROM benefit.base_price bp;
COMMENT ON VIEW benefit.catalogue_price IS
    'Sales catalogue: the base prices; NULL in a dimension means any, and price_basket takes the most specific row for a line without base price';
COMMENT ON COLUMN benefit.catalogue_price.product_id IS 'The product';
COMMENT ON COLUMN benefit.catalogue_price.performance_id IS 'One performance of the product, or NULL for all of them';
COMMENT ON COLUMN benefit.catalogue_price.seat_category_id IS 'Seat category, or NULL for any';
COMMENT ON COLUMN benefit.catalogue_price.audience_id IS 'Audience, or NULL for any';
COMMENT ON COLUMN benefit.catalogue_price.price_cents IS 'Base price in minor units of the house currency';

CREATE VIEW benefit.catalogue_channel AS
SELECT c.code AS channel,
       c.name AS channel_name,
       c.kind,
       pos.code AS point_of_sale,
       pos.name AS point_of_sale_name
  FROM benefit.sales_channel c
  LEFT JOIN benefit.point_of_sale pos ON pos.channel_id = c.channel_id;
COMMENT ON VIEW benefit.catalogue_channel IS
    'Sales catalogue: where a sale happens, as the runtime calls name it: one row per sales channel and point of sale (a channel without points of sale once, with point_of_sale NULL)';
COMMENT ON COLUMN benefit.catalogue_channel.channel IS 'The channel code the runtime calls take';
COMMENT ON COLUMN benefit.catalogue_channel.channel_name IS 'Display name of the channel';
COMMENT ON COLUMN benefit.catalogue_channel.kind IS 'Kind of channel (box_office, web, call_centre, reseller, other)';
COMMENT ON COLUMN benefit.catalogue_channel.point_of_sale IS 'The point-of-sale code the runtime calls take on this web channel, or NULL';
COMMENT ON COLUMN benefit.catalogue_channel.point_of_sale_name IS 'Display name of the point of sale, or NULL';

REVOKE ALL ON benefit.catalogue_product, benefit.catalogue_performance, benefit.catalogue_seat_category,
    benefit.catalogue_audience, benefit.catalogue_price, benefit.catalogue_channel FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_product, benefit.catalogue_performance, benefit.catalogue_seat_category,
    benefit.catalogue_audience, benefit.catalogue_price, benefit.catalogue_channel
    TO benefit_sales, benefit_admin;

--------------------------------------------------------------------------
-- A comment on every column of the reporting views
--------------------------------------------------------------------------

COMMENT ON COLUMN benefit.code_tracking.code IS 'The single-use code';
COMMENT ON COLUMN benefit.code_tracking.batch_id IS 'The batch it was generated in';
COMMENT ON COLUMN benefit.code_tracking.organisation_id IS 'Contact id of the organisation the batch was made for';
COMMENT ON COLUMN benefit.code_tracking.organisation IS 'Name of that organisation';
COMMENT ON COLUMN benefit.code_tracking.benefit_id IS 'The benefit the code unlocks';
COMMENT ON COLUMN benefit.code_tracking.benefit IS 'Code of that benefit';
COMMENT ON COLUMN benefit.code_tracking.state IS 'issued, held, used or invalidated';
COMMENT ON COLUMN benefit.code_tracking.hold_order IS 'The order holding the code, while held';
COMMENT ON COLUMN benefit.code_tracking.hold_until IS 'Deadline of the hold, while held';
COMMENT ON COLUMN benefit.code_tracking.used_at IS 'When the code was used, or NULL';
COMMENT ON COLUMN benefit.code_tracking.used_by_contact IS 'Contact id of the buyer who used it (NULL: anonymous or unused)';
COMMENT ON COLUMN benefit.code_tracking.used_by IS 'Name of that buyer';
COMMENT ON COLUMN benefit.code_tracking.used_order IS 'The order it was used for, or NULL';
COMMENT ON COLUMN benefit.code_tracking.invalidated_at IS 'When an operator invalidated it, or NULL';
COMMENT ON COLUMN benefit.code_tracking.invalidated_by IS 'The role that invalidated it';
COMMENT ON COLUMN benefit.code_tracking.invalidated_reason IS 'Why it was invalidated';
COMMENT ON COLUMN benefit.code_tracking.tickets_issued IS 'Tickets recorded with this code';
COMMENT ON COLUMN benefit.code_tracking.tickets_scanned IS 'Of those, tickets scanned at access control';

COMMENT ON COLUMN benefit.code_dashboard.organisation_id IS 'Contact id of the organisation the codes were generated for';
COMMENT ON COLUMN benefit.code_dashboard.organisation IS 'Name of that organisation';
COMMENT ON COLUMN benefit.code_dashboard.benefit_id IS 'The benefit the codes unlock';
COMMENT ON COLUMN benefit.code_dashboard.benefit IS 'Code of that benefit';
COMMENT ON COLUMN benefit.code_dashboard.benefit_name IS 'Display name of that benefit';
COMMENT ON COLUMN benefit.code_dashboard.batches IS 'Batches generated for this organisation and benefit';
COMMENT ON COLUMN benefit.code_dashboard.codes_generated IS 'Codes in those batches';
COMMENT ON COLUMN benefit.code_dashboard.codes_used IS 'Codes used by a confirmed order or redeem_code';
COMMENT ON COLUMN benefit.code_dashboard.codes_held IS 'Codes held by an open order';
COMMENT ON COLUMN benefit.code_dashboard.codes_invalidated IS 'Codes an operator invalidated';
COMMENT ON COLUMN benefit.code_dashboard.codes_left IS 'Codes still issued (neither held, used nor invalidated)';
COMMENT ON COLUMN benefit.code_dashboard.tickets_issued IS 'Tickets recorded with these codes';
COMMENT ON COLUMN benefit.code_dashboard.tickets_scanned IS 'Of those, tickets scanned at access control';

COMMENT ON COLUMN benefit.benefit_overview.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_overview.code IS 'Its stable code';
COMMENT ON COLUMN benefit.benefit_overview.name IS 'Its display name';
COMMENT ON COLUMN benefit.benefit_overview.season IS 'Code of its season';
COMMENT ON COLUMN benefit.benefit_overview.target_type IS 'Who may use it (public, contacts, indicator, partner, single_use)';
COMMENT ON COLUMN benefit.benefit_overview.status IS 'Lifecycle status (draft, validated, live, suspended, closed)';
COMMENT ON COLUMN benefit.benefit_overview.valid_from IS 'Start of its validity, or NULL for open';
COMMENT ON COLUMN benefit.benefit_overview.valid_until IS 'End of its validity, or NULL for open';
COMMENT ON COLUMN benefit.benefit_overview.channels IS 'Codes of the channels it is sold on, {*} for all';
COMMENT ON COLUMN benefit.benefit_overview.quota_total IS 'Total quota in units, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit_overview.tariff_rows IS 'Number of its tariff rows';
COMMENT ON COLUMN benefit.benefit_overview.problems IS 'Number of problems that keep it from going live (benefit.list_problems says which)';

COMMENT ON COLUMN benefit.benefit_usage.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_usage.code IS 'Its stable code';
COMMENT ON COLUMN benefit.benefit_usage.name IS 'Its display name';
COMMENT ON COLUMN benefit.benefit_usage.status IS 'Its lifecycle status';
COMMENT ON COLUMN benefit.benefit_usage.quota_total IS 'Total quota in units, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit_usage.held IS 'Units held by open holds';
COMMENT ON COLUMN benefit.benefit_usage.used IS 'Units used by confirmed orders';
COMMENT ON COLUMN benefit.benefit_usage."left" IS 'Units left under the total quota (quota_total - held - used), or NULL for no limit';
COMMENT ON COLUMN benefit.benefit_usage.units_sold IS 'Units sold with it by confirmed orders';
COMMENT ON COLUMN benefit.benefit_usage.discount_cents IS 'Discount it gave (base price minus its price, times units) on confirmed orders, in cents';

COMMENT ON COLUMN benefit.promo_usage.promo_code_id IS 'The promo code';
COMMENT ON COLUMN benefit.promo_usage.code IS 'The code buyers enter';
COMMENT ON COLUMN benefit.promo_usage.name IS 'Its display name';
COMMENT ON COLUMN benefit.promo_usage.is_active IS 'False when switched off';
COMMENT ON COLUMN benefit.promo_usage.max_uses_total IS 'Total use limit, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_usage.held IS 'Uses held by open holds';
COMMENT ON COLUMN benefit.promo_usage.used IS 'Uses by confirmed orders';
COMMENT ON COLUMN benefit.promo_usage."left" IS 'Uses left under the total limit, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_usage.discount_cents IS 'Discount it gave on confirmed orders, in cents';
COMMENT ON COLUMN benefit.promo_usage.problems IS 'Number of configuration problems (benefit.list_promo_problems says which)';
