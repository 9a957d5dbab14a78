/*
 * benefit 0.1.0 -> 0.2.0
 *
 * Run by ALTER EXTENSION benefit UPDATE, and by CREATE EXTENSION benefit
 * after the frozen 0.1.0 install script.  Built by make: the parts in
 * sql/0.1.0--0.2.0/ joined in the order of their names (one concern each;
 * the release freezes the joined script).  Functions whose body changes are
 * replaced with CREATE OR REPLACE: PostgreSQL only lets an extension script
 * replace objects that already belong to the extension.
 */
\echo Use "ALTER EXTENSION benefit UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0: audit columns written by the extension only; a live benefit stays
-- complete when the rows it refers to change; season days read in UTC;
-- promo-code problems listed.  (The update's warning about live benefits
-- that are already incomplete is in 50_time_zone_and_isolation.sql, after
-- list_problems reads season days in UTC too.)

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

-- A live benefit stays complete when the rows it refers to change: its
-- season's dates, the season of its products and of its campaign, the
-- channel of its point of sale, the kind of its channels (and a new channel,
-- for benefits sold on all channels).  Going live locks those rows (FOR
-- SHARE) before judging them, and an edit of them locks the benefits that
-- refer to them, so that each side either waits for the other and judges
-- its committed rows, or (REPEATABLE READ) fails with a serialization error.

CREATE FUNCTION benefit.check_still_complete(benefit_ids bigint[])
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
    bcode text;
    problems text;
BEGIN
    -- "The validity has already ended" is not held against edits.
    FOR id, bcode IN
        SELECT b.benefit_id, b.code FROM benefit.benefit b
         WHERE b.benefit_id = ANY (benefit_ids) AND b.status = 'live'
         ORDER BY b.benefit_id
    LOOP
        SELECT string_agg(format('%s: %s', p.field, p.problem), E'\n' ORDER BY p.field, p.problem)
          INTO problems
          FROM benefit.list_problems(id) p
         WHERE p.problem <> 'the validity has already ended';
        IF problems IS NOT NULL THEN
            RAISE EXCEPTION 'this change would leave live benefit "%" incomplete', bcode
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = problems,
                      HINT = 'Suspend it with benefit.suspend() to rework it, or close it.';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION benefit.check_still_complete(bigint[]) IS
    'Refuses (55000, naming the first benefit and its problems) when one of these benefits is live and has a problem that going live refuses';

CREATE OR REPLACE FUNCTION benefit.check_live_complete()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    problems text;
    n integer;
BEGIN
    -- A status change to validated or live: every problem refuses it,
    -- judged on the row as written (not as it was before the UPDATE) and on
    -- the referenced rows as committed, locked against concurrent edits.
    IF TG_TABLE_NAME = 'benefit' THEN
      IF NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM 1
           FROM benefit.season s
          WHERE s.season_id = NEW.season_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.product p
          WHERE p.product_id IN (SELECT t.product_id FROM benefit.benefit_tariff t WHERE t.benefit_id = NEW.benefit_id)
          ORDER BY p.product_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.campaign c
          WHERE c.campaign_id = NEW.campaign_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.point_of_sale p
          WHERE p.point_of_sale_id = NEW.point_of_sale_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.sales_channel c
          WHERE NEW.all_channels
             OR c.channel_id IN (SELECT bc.channel_id FROM benefit.benefit_channel bc WHERE bc.benefit_id = NEW.benefit_id)
          ORDER BY c.channel_id
            FOR SHARE;
        SELECT count(*), string_agg(format('%s: %s', p.field, p.problem), E'\n' ORDER BY p.field, p.problem)
          INTO n, problems
          FROM benefit.list_problems(NEW.benefit_id) p;
        IF n > 0 THEN
            RAISE EXCEPTION 'benefit "%" cannot %', NEW.code,
                    CASE NEW.status WHEN 'live' THEN 'go live' ELSE 'be validated' END
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format(E'%s problem%s:\n%s', n, CASE WHEN n > 1 THEN 's' ELSE '' END, problems),
                      HINT = 'benefit.list_problems(benefit_id) lists the same problems.';
        END IF;
        RETURN NULL;
      END IF;
    END IF;

    -- A live benefit must stay complete: an edit allowed while live (channels,
    -- validity, all_channels) may not leave it without what going live needed.
    PERFORM benefit.check_still_complete(ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN OLD.benefit_id END,
        CASE WHEN TG_OP <> 'DELETE' THEN NEW.benefit_id END]);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION benefit.check_live_complete() IS
    'Trigger function: refuses validating or going live with problems (judged on the referenced season, products, campaign, point of sale and channels, locked FOR SHARE), and an edit that would leave a live benefit incomplete (for example removing its last channel)';

CREATE FUNCTION benefit.check_live_references()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    -- The benefits that refer to the changed row, locked FOR SHARE: an edit
    -- of one of them in progress (going live, a new validity, a channel)
    -- finishes first and is judged here, or waits for this transaction and
    -- judges its rows; under REPEATABLE READ a benefit changed since the
    -- snapshot is a serialization failure (40001) rather than a stale read.
    -- check_still_complete then judges the live ones.
    IF TG_TABLE_NAME = 'season' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b WHERE b.season_id = NEW.season_id
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'product' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b
                      WHERE b.benefit_id IN (SELECT t.benefit_id FROM benefit.benefit_tariff t
                                              WHERE t.product_id = NEW.product_id)
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'campaign' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b WHERE b.campaign_id = NEW.campaign_id
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'point_of_sale' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b WHERE b.point_of_sale_id = NEW.point_of_sale_id
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'sales_channel' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b
                      WHERE b.all_channels
                         OR b.benefit_id IN (SELECT bc.benefit_id FROM benefit.benefit_channel bc
                                              WHERE bc.channel_id = NEW.channel_id)
                      ORDER BY b.benefit_id FOR SHARE);
    END IF;
    PERFORM benefit.check_still_complete(ids);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit.check_live_references() IS
    'Trigger function: refuses an edit of a season, product, campaign, point of sale or channel (or a new channel) that would give a live benefit referring to it a problem that going live refuses; locks those benefits FOR SHARE first';

CREATE CONSTRAINT TRIGGER season_live_refs_trg
    AFTER UPDATE OF starts_on, ends_on ON benefit.season
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.starts_on IS DISTINCT FROM OLD.starts_on OR NEW.ends_on IS DISTINCT FROM OLD.ends_on)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER season_live_refs_trg ON benefit.season IS
    'The season of a live benefit keeps its validity inside it';

CREATE CONSTRAINT TRIGGER product_live_refs_trg
    AFTER UPDATE OF season_id ON benefit.product
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.season_id IS DISTINCT FROM OLD.season_id)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER product_live_refs_trg ON benefit.product IS
    'A product priced by a live benefit stays in its season';

CREATE CONSTRAINT TRIGGER campaign_live_refs_trg
    AFTER UPDATE OF season_id ON benefit.campaign
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.season_id IS DISTINCT FROM OLD.season_id)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER campaign_live_refs_trg ON benefit.campaign IS
    'The campaign of a live benefit stays in its season';

CREATE CONSTRAINT TRIGGER point_of_sale_live_refs_trg
    AFTER UPDATE OF channel_id ON benefit.point_of_sale
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.channel_id IS DISTINCT FROM OLD.channel_id)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER point_of_sale_live_refs_trg ON benefit.point_of_sale IS
    'The point of sale of a live single-use benefit stays on its channels';

CREATE CONSTRAINT TRIGGER sales_channel_live_refs_trg
    AFTER UPDATE OF kind ON benefit.sales_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.kind IS DISTINCT FROM OLD.kind)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER sales_channel_live_refs_trg ON benefit.sales_channel IS
    'A channel keeps the kind its live benefits were judged on';

CREATE CONSTRAINT TRIGGER sales_channel_insert_live_refs_trg
    AFTER INSERT ON benefit.sales_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER sales_channel_insert_live_refs_trg ON benefit.sales_channel IS
    'A new channel joins every live benefit sold on all channels: it must not make one incomplete (a web channel for a single-use benefit without a point of sale)';

REVOKE ALL ON FUNCTION benefit.check_still_complete(bigint[]), benefit.check_live_references() FROM PUBLIC;
-- the triggers run it as the role making the edit
GRANT EXECUTE ON FUNCTION benefit.check_still_complete(bigint[]) TO benefit_admin;

-- One time zone for every season date.  A season's starts_on and ends_on are
-- calendar days in UTC: the season runs from starts_on 00:00 UTC to the end
-- of ends_on, 24:00 UTC, whatever the TimeZone of the session that writes or
-- judges a validity (a validity is an instant, timestamptz).  Comparing a
-- date with a timestamptz directly would read the date in the session's
-- time zone: a benefit that went live from a UTC session could then not be
-- renamed from a Europe/Zurich one, and benefit_overview.problems would
-- depend on the reader.  list_problems (benefits) and list_promo_problems
-- judge a validity against its season with list_validity_problems, which
-- reads every season day through season_day_start.
CREATE FUNCTION benefit.season_day_start(day date)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.timezone('UTC', day::timestamp);
COMMENT ON FUNCTION benefit.season_day_start(date) IS
    'The instant a season''s calendar day starts: its midnight in UTC, the one time zone season dates are read in (never the session''s); a season runs from season_day_start(starts_on) to season_day_start(ends_on + 1)';

CREATE FUNCTION benefit.list_validity_problems(valid_from timestamptz, valid_until timestamptz,
                                               starts_on date, ends_on date)
RETURNS TABLE (field text, problem text)
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'valid_until', 'the validity has already ended'
     WHERE valid_until <= now()
    UNION ALL
    SELECT 'valid_until', format('the validity ends before the season starts (%s)', to_char(starts_on::timestamp, 'YYYY-MM-DD'))
     WHERE valid_until <= benefit.season_day_start(starts_on)
    UNION ALL
    SELECT 'valid_from', format('the validity starts after the season ends (%s)', to_char(ends_on::timestamp, 'YYYY-MM-DD'))
     WHERE valid_from >= benefit.season_day_start(ends_on + 1)
$$;
COMMENT ON FUNCTION benefit.list_validity_problems(timestamptz, timestamptz, date, date) IS
    'The problems of a validity (either end NULL: open) in its season (NULL: none): already ended, ends before the season starts, starts after the season ends; season days are read in UTC (season_day_start); the rule list_problems and list_promo_problems share';

REVOKE ALL ON FUNCTION benefit.season_day_start(date),
    benefit.list_validity_problems(timestamptz, timestamptz, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.season_day_start(date) TO benefit_admin, benefit_report;
GRANT EXECUTE ON FUNCTION benefit.list_validity_problems(timestamptz, timestamptz, date, date) TO benefit_admin;

-- Promo codes have no lifecycle: what keeps one from being used is listed
-- (as list_problems does for benefits), not refused, so that a script may
-- insert a code and its channels in separate statements.
CREATE FUNCTION benefit.list_promo_problems(p_promo_code_id bigint)
RETURNS TABLE (field text, problem text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH p AS (
        SELECT p.*, s.starts_on, s.ends_on
          FROM benefit.promo_code p
          LEFT JOIN benefit.season s ON s.season_id = p.season_id
         WHERE p.promo_code_id = p_promo_code_id
    )
    SELECT 'channels', 'no sales channel: set all_channels or add rows to promo_code_channel'
      FROM p WHERE NOT p.all_channels
       AND NOT EXISTS (SELECT 1 FROM benefit.promo_code_channel c WHERE c.promo_code_id = p.promo_code_id)
    UNION ALL
    SELECT 'channels', 'all_channels is set and promo_code_channel has rows too: keep one of them'
      FROM p WHERE p.all_channels
       AND EXISTS (SELECT 1 FROM benefit.promo_code_channel c WHERE c.promo_code_id = p.promo_code_id)
    UNION ALL
    SELECT v.field, v.problem
      FROM p, benefit.list_validity_problems(p.valid_from, p.valid_until, p.starts_on, p.ends_on) v
$$;
COMMENT ON FUNCTION benefit.list_promo_problems(bigint) IS
    'What keeps a promo code from being used anywhere: one row per problem, naming the field (no channel, both channel forms, validity ended or outside its season); no rows when it is complete or unknown';

CREATE FUNCTION benefit.count_promo_problems(p_promo_code_id bigint)
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT count(*) FROM benefit.list_promo_problems(p_promo_code_id);
END;
COMMENT ON FUNCTION benefit.count_promo_problems(bigint) IS
    'How many problems keep a promo code from being used (for the reporting view, which must not show their details)';

CREATE OR REPLACE VIEW benefit.promo_usage AS
SELECT p.promo_code_id,
       p.code,
       p.name,
       p.is_active,
       p.max_uses_total,
       coalesce(sum(c.held), 0)::integer AS held,
       coalesce(sum(c.used), 0)::integer AS used,
       (p.max_uses_total - coalesce(sum(c.held + c.used), 0))::integer AS left,
       coalesce((SELECT sum(h.promo_discount_cents) FROM benefit.order_hold h
                  WHERE h.promo_code_id = p.promo_code_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents,
       benefit.count_promo_problems(p.promo_code_id) AS problems
  FROM benefit.promo_code p
  LEFT JOIN benefit.counter c ON c.kind = 'promo_slot' AND c.owner_id = p.promo_code_id
 GROUP BY p.promo_code_id;
COMMENT ON VIEW benefit.promo_usage IS
    'Per promo code: total use limit, uses held by open holds, used by confirmed orders, left (NULL: no limit), discount given (cents, confirmed orders), number of problems (benefit.list_promo_problems says which)';

REVOKE ALL ON FUNCTION benefit.list_promo_problems(bigint), benefit.count_promo_problems(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.list_promo_problems(bigint), benefit.count_promo_problems(bigint) TO benefit_admin;
GRANT EXECUTE ON FUNCTION benefit.count_promo_problems(bigint) TO benefit_report;
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
-- 0.2.0: wrong code entries are counted in shared memory (src/throttle.c),
-- not in a table, so that every read-only call (eligibility, pricing, the
-- code box) works on a hot standby and in a read-only transaction and still
-- throttles; every call that takes a code goes through the throttle; the
-- runtime calls that write refuse a read-only transaction with one error.

--------------------------------------------------------------------------
-- The counts in shared memory
--------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benefit.is_throttled(contact_id bigint, client_key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_is_throttled'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.is_throttled(bigint, text) IS
    '(C, src/throttle.c) True when the contact or the client key entered benefit.throttle_failures wrong codes or more within the current benefit.throttle_window, as this server counted them; false for a caller with neither';

CREATE OR REPLACE FUNCTION benefit.record_code_failures(contact_id bigint, client_key text, n integer)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_record_code_failures'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.record_code_failures(bigint, text, integer) IS
    '(C, src/throttle.c) Counts n wrong code entries against the contact and the client key, in this server''s shared memory (no write: works on a standby); a window that ended starts again; a valid code resets nothing';

CREATE FUNCTION benefit.list_code_attempts()
RETURNS TABLE (key text, window_start timestamptz, failures integer, throttled boolean)
AS 'MODULE_PATHNAME', 'benefit_list_code_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE SECURITY INVOKER ROWS 100;
COMMENT ON FUNCTION benefit.list_code_attempts() IS
    'The wrong-code counts this server holds in shared memory for this database: key (contact:<id>, or client:<md5 of the client key>), start of the window, wrong entries in it, and whether the caller is throttled now';

-- Purging is a matter of shared memory now: the same function, in C.
CREATE OR REPLACE FUNCTION benefit.purge_code_attempts()
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_purge_code_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.purge_code_attempts() IS
    'Forgets the wrong-code counts whose window (benefit.throttle_window) has ended, on this server; returns how many. Optional: a full table of counts forgets ended windows by itself';

CREATE FUNCTION benefit.forget_code_attempts(contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_forget_code_attempts'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.forget_code_attempts(bigint, text) IS
    'Forgets the wrong-code counts of a contact and of a client key on this server, so that a throttled buyer is heard again at once (both NULL: every count of this database); returns how many';

REVOKE ALL ON FUNCTION benefit.purge_code_attempts(), benefit.list_code_attempts(),
    benefit.forget_code_attempts(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.purge_code_attempts() TO benefit_admin, benefit_sales;
GRANT EXECUTE ON FUNCTION benefit.list_code_attempts(), benefit.forget_code_attempts(bigint, text) TO benefit_admin;

-- The rows of the 0.1.0 table move into shared memory (lost, with a
-- WARNING, when the library is not preloaded), then the table goes.
CREATE FUNCTION benefit.restore_code_attempt(key text, window_start timestamptz, failures integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_restore_code_attempt'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
DO $$
DECLARE
    lost integer;
BEGIN
    SELECT count(*) FILTER (WHERE NOT benefit.restore_code_attempt(a.key, a.window_start, a.failures))
      INTO lost FROM benefit.code_attempt a;
    IF lost > 0 THEN
        RAISE WARNING '% wrong-code counts were not kept: benefit is not in shared_preload_libraries', lost
              USING HINT = 'Add benefit to shared_preload_libraries and restart the server: without it, calls that throttle fail.';
    END IF;
END
$$;
DROP FUNCTION benefit.restore_code_attempt(text, timestamptz, integer);
DROP TABLE benefit.code_attempt;
DROP FUNCTION benefit.throttle_keys(bigint, text);

--------------------------------------------------------------------------
-- One error for a runtime call that writes, in a read-only transaction
--------------------------------------------------------------------------

CREATE FUNCTION benefit.require_writable(call text)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_require_writable_sql'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.require_writable(text) IS
    '(C) Raises 25006 naming the call when the transaction is read-only or the server a hot standby; the runtime functions that write call it first, so that nothing is half done';
REVOKE ALL ON FUNCTION benefit.require_writable(text) FROM PUBLIC;

--------------------------------------------------------------------------
-- The code calls: the guard, and the throttle for every call that takes a
-- code (hold_code, release_code and record_ticket take contact_id and
-- client_key like redeem_code)
--------------------------------------------------------------------------

DROP FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text);
CREATE FUNCTION benefit.hold_code(code benefit.code, order_ref text, hold_until timestamptz,
                                  channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                  contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    r benefit.reason;
BEGIN
    PERFORM benefit.require_writable('benefit.hold_code()');
    IF code IS NULL OR order_ref IS NULL OR hold_until IS NULL THEN
        RAISE EXCEPTION 'code, order_ref and hold_until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(order_ref) = '' OR length(order_ref) > 200 THEN
        RAISE EXCEPTION 'order_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF hold_until <= now() OR hold_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'hold_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('hold_until was %s.', hold_until);
    END IF;
    -- the references the application passes (benefit.resolve_sale, 40_json_and_strict_input.sql)
    PERFORM benefit.resolve_sale(hold_code.channel, hold_code.point_of_sale, hold_code.contact_id, false);
    IF benefit.is_throttled(hold_code.contact_id, hold_code.client_key) THEN
        RETURN 'throttled';
    END IF;
    -- the checks of redeem_code, without using the code: same reasons, same order
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) hold_code.code FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM benefit.record_code_failures(hold_code.contact_id, hold_code.client_key, 1);
        RETURN 'unknown_code';
    END IF;
    r := benefit.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, hold_code.order_ref,
                                hold_code.channel, hold_code.point_of_sale);
    IF r <> 'ok' THEN
        RETURN r;
    END IF;
    UPDATE benefit.single_use_code sc SET state = 'held', hold_order = hold_code.order_ref,
           hold_until = hold_code.hold_until
     WHERE sc.code OPERATOR(benefit.=) hold_code.code;
    IF c.state <> 'held' OR c.hold_order IS DISTINCT FROM hold_code.order_ref THEN
        INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel)
        VALUES (hold_code.code, c.state, 'held', hold_code.order_ref, hold_code.contact_id, hold_code.channel);
    END IF;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) IS
    'Holds a single-use code for an order until a deadline (at most 7 days ahead); holding again for the same order moves the deadline; returns ok or the reason, as redeem_code does (throttled when the contact or client key entered too many wrong codes; an unknown code counts as one); redeem_code by the same order then uses it; 22023 for an unknown channel or point of sale, P0002 for an unknown contact';

DROP FUNCTION benefit.release_code(benefit.code, text);
CREATE FUNCTION benefit.release_code(code benefit.code, order_ref text,
                                     contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM benefit.require_writable('benefit.release_code()');
    IF code IS NULL OR order_ref IS NULL THEN
        RAISE EXCEPTION 'code and order_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(order_ref) = '' OR length(order_ref) > 200 THEN
        RAISE EXCEPTION 'order_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM benefit.resolve_sale(NULL, NULL, release_code.contact_id, false);
    IF benefit.is_throttled(release_code.contact_id, release_code.client_key) THEN
        RETURN 'throttled';
    END IF;
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) release_code.code FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM benefit.record_code_failures(release_code.contact_id, release_code.client_key, 1);
        RETURN 'unknown_code';
    ELSIF c.state = 'used' THEN
        RETURN 'already_used';
    ELSIF c.state = 'invalidated' THEN
        RETURN 'invalidated';
    ELSIF c.state = 'held' AND c.hold_order <> release_code.order_ref AND c.hold_until >= now() THEN
        RETURN 'held_by_other_order';
    ELSIF c.state = 'issued' OR c.hold_order <> release_code.order_ref THEN
        RETURN 'ok';                -- nothing held by this order: releasing is idempotent
    END IF;
    UPDATE benefit.single_use_code sc SET state = 'issued', hold_order = NULL, hold_until = NULL
     WHERE sc.code OPERATOR(benefit.=) release_code.code;
    INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id)
    VALUES (release_code.code, 'held', 'issued', release_code.order_ref, release_code.contact_id);
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.release_code(benefit.code, text, bigint, text) IS
    'Gives back a code held by an order (back to issued); idempotent; refuses with held_by_other_order, already_used, invalidated, unknown_code (counted as a wrong entry) or throttled; P0002 for an unknown contact';

DROP FUNCTION benefit.record_ticket(text, text, bigint, benefit.code);
CREATE FUNCTION benefit.record_ticket(ticket_ref text, order_ref text, benefit_id bigint, code benefit.code DEFAULT NULL,
                                      contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM benefit.require_writable('benefit.record_ticket()');
    IF ticket_ref IS NULL OR order_ref IS NULL OR benefit_id IS NULL THEN
        RAISE EXCEPTION 'ticket_ref, order_ref and benefit_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM benefit.benefit b WHERE b.benefit_id = record_ticket.benefit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'benefit % does not exist', benefit_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM benefit.resolve_sale(NULL, NULL, record_ticket.contact_id, false);
    IF code IS NOT NULL THEN
        IF benefit.is_throttled(record_ticket.contact_id, record_ticket.client_key) THEN
            RAISE EXCEPTION 'too many wrong codes from this contact or client key lately'
                USING ERRCODE = 'VB003',
                      HINT = 'Wait until the throttle window (benefit.throttle_window) has passed.';
        END IF;
        SELECT sc.state, sc.used_order, sc.benefit_id INTO c FROM benefit.single_use_code sc
         WHERE sc.code OPERATOR(benefit.=) record_ticket.code;
        IF NOT FOUND THEN
            PERFORM benefit.record_code_failures(record_ticket.contact_id, record_ticket.client_key, 1);
            RAISE EXCEPTION 'code "%" does not exist', code USING ERRCODE = 'no_data_found';
        ELSIF c.benefit_id <> record_ticket.benefit_id THEN
            RAISE EXCEPTION 'code "%" is not a code of benefit %', code, benefit_id USING ERRCODE = 'invalid_parameter_value';
        ELSIF c.state <> 'used' OR c.used_order <> record_ticket.order_ref THEN
            RAISE EXCEPTION 'code "%" was not used for order "%"', code, order_ref
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Redeem the code for the order (benefit.redeem_code) before issuing its tickets.';
        END IF;
    END IF;
    BEGIN
        INSERT INTO benefit.ticket (ticket_ref, order_ref, benefit_id, code)
        VALUES (record_ticket.ticket_ref, record_ticket.order_ref, record_ticket.benefit_id, record_ticket.code);
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'ticket "%" is already recorded', ticket_ref USING ERRCODE = 'unique_violation';
    END;
    RETURN ticket_ref;
END
$$;
COMMENT ON FUNCTION benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) IS
    'Records a ticket issued through a benefit, with the single-use code that priced it (which must have been used for that order); refuses unknown benefits and codes (an unknown code counts as a wrong entry of the contact or client key; VB003 when they are throttled), an unknown contact (P0002) and a ticket recorded twice';

REVOKE ALL ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text),
    benefit.release_code(benefit.code, text, bigint, text),
    benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text),
    benefit.release_code(benefit.code, text, bigint, text),
    benefit.record_ticket(text, text, bigint, benefit.code, bigint, text)
    TO benefit_sales, benefit_admin;

-- The other calls that write: the guard first, bodies otherwise unchanged
-- (hold, expire_holds and expire_code_holds get it in 50_time_zone_and_isolation.sql,
-- which replaces them again).

CREATE OR REPLACE FUNCTION benefit.invalidate_code(code benefit.code, reason text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st benefit.code_state;
BEGIN
    PERFORM benefit.require_writable('benefit.invalidate_code()');
    IF btrim(reason) = '' THEN
        RAISE EXCEPTION 'a reason is required to invalidate a code'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the row lock orders this call with any redemption of the same code
    SELECT c.state INTO st FROM benefit.single_use_code c
     WHERE c.code OPERATOR(benefit.=) invalidate_code.code FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown_code';
    ELSIF st = 'used' THEN
        RETURN 'already_used';
    ELSIF st = 'invalidated' THEN
        RETURN 'invalidated';
    END IF;
    UPDATE benefit.single_use_code c
       SET state = 'invalidated', invalidated_at = now(), invalidated_by = session_user,
           invalidated_reason = invalidate_code.reason, hold_order = NULL, hold_until = NULL
     WHERE c.code OPERATOR(benefit.=) invalidate_code.code;
    INSERT INTO benefit.code_history (code, from_state, to_state, reason)
    VALUES (invalidate_code.code, st, 'invalidated', invalidate_code.reason);
    RETURN 'ok';
END
$$;

CREATE OR REPLACE FUNCTION benefit.ticket_scanned(ticket_ref text, at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_scan timestamptz;
BEGIN
    PERFORM benefit.require_writable('benefit.ticket_scanned()');
    IF ticket_ref IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'ticket_ref and at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT t.scanned_at INTO first_scan FROM benefit.ticket t WHERE t.ticket_ref = ticket_scanned.ticket_ref FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticket "%" is not a ticket issued through a benefit', ticket_ref USING ERRCODE = 'no_data_found';
    END IF;
    IF first_scan IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE benefit.ticket t SET scanned_at = ticket_scanned.at WHERE t.ticket_ref = ticket_scanned.ticket_ref;
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION benefit.confirm(order_ref text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h record;
    k record;
BEGIN
    PERFORM benefit.require_writable('benefit.confirm()');
    SELECT * INTO h FROM benefit.order_hold o WHERE o.order_ref = confirm.order_ref FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown_order';
    ELSIF h.state = 'confirmed' THEN
        RETURN 'ok';                                -- confirming twice is harmless
    ELSIF h.state = 'released' THEN
        RETURN 'already_released';
    ELSIF h.state = 'expired' THEN
        RETURN 'hold_expired';
    ELSIF h.held_until < clock_timestamp() THEN
        -- past its deadline (by the clock, not the transaction start): never confirmed; give
        -- everything back now
        PERFORM benefit.lock_codes(ARRAY[h.order_ref]);
        PERFORM benefit.settle(ARRAY[h.order_ref], false);
        PERFORM benefit.release_codes(ARRAY[h.order_ref], 'hold expired');
        UPDATE benefit.order_hold o SET state = 'expired', closed_at = now(), closed_by = SESSION_USER
         WHERE o.order_ref = h.order_ref;
        RETURN 'hold_expired';
    END IF;
    -- the codes first checked (an operator may have invalidated one), then every write
    FOR k IN SELECT c.code, c.state, c.hold_order FROM benefit.order_code o
               JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code
              WHERE o.order_ref = h.order_ref ORDER BY c.code FOR UPDATE OF c LOOP
        IF k.state <> 'held' OR k.hold_order IS DISTINCT FROM h.order_ref THEN
            RETURN CASE k.state WHEN 'invalidated' THEN 'invalidated' WHEN 'used' THEN 'already_used'
                                ELSE 'held_by_other_order' END;
        END IF;
    END LOOP;
    PERFORM benefit.settle(ARRAY[h.order_ref], true);
    FOR k IN SELECT o.code FROM benefit.order_code o WHERE o.order_ref = h.order_ref ORDER BY o.code LOOP
        UPDATE benefit.single_use_code c
           SET state = 'used', used_at = now(), used_by_contact = h.contact_id, used_order = h.order_ref,
               hold_order = NULL, hold_until = NULL
         WHERE c.code OPERATOR(benefit.=) k.code;
        INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel)
        VALUES (k.code, 'held', 'used', h.order_ref, h.contact_id, h.channel);
    END LOOP;
    UPDATE benefit.order_hold o SET state = 'confirmed', closed_at = now(), closed_by = SESSION_USER
     WHERE o.order_ref = h.order_ref;
    RETURN 'ok';
END
$$;

CREATE OR REPLACE FUNCTION benefit.release(order_ref text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h record;
BEGIN
    PERFORM benefit.require_writable('benefit.release()');
    SELECT * INTO h FROM benefit.order_hold o WHERE o.order_ref = release.order_ref FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown_order';
    ELSIF h.state = 'confirmed' THEN
        RETURN 'already_confirmed';
    ELSIF h.state <> 'held' THEN
        RETURN 'ok';                                -- already given back
    END IF;
    PERFORM benefit.lock_codes(ARRAY[h.order_ref]);
    PERFORM benefit.settle(ARRAY[h.order_ref], false);
    PERFORM benefit.release_codes(ARRAY[h.order_ref], 'order released');
    UPDATE benefit.order_hold o SET state = 'released', closed_at = now(), closed_by = SESSION_USER
     WHERE o.order_ref = h.order_ref;
    RETURN 'ok';
END
$$;
-- 0.2.0: JSON clients and strict input.
--
-- Bad references are refused, not ignored: every runtime call checks its
-- sales channel, point of sale and contact with one rule (src/sale.c; the
-- SQL callers through benefit.resolve_sale): 22023 for an unknown channel or
-- point of sale, or a point of sale of another channel; P0002 for an
-- unknown contact id.  Pricing refuses a basket line whose performance,
-- seat category or audience does not exist (P0002) or whose performance is
-- one of another product (22023).
--
-- What a typed text is ("Code avantage"), read once for every entry point
-- (benefit.read_codes): a partner access code (any case, trimmed) first, then
-- a well-formed single-use code, otherwise unknown.
--
-- What a buyer can still take of a benefit (benefit.units_left) is written
-- once for the SQL side; eligibility reports a benefit sold out
-- (quota_exhausted) or whose per-contact limit the buyer used up
-- (contact_quota_exhausted), available shows the figures, and the gift icon
-- lights only for benefits the contact can still use.  (price, in C, keeps
-- its own statement of the figures: the library also serves databases not
-- yet updated, which have no units_left.)
--
-- A jsonb form of each runtime call a web shop makes, thin wrappers around
-- the typed calls: one parser (benefit.parse_call) reads every key with the
-- name and type of the typed call's argument and refuses an unknown key or a
-- wrong JSON type (22023, naming the key).

--------------------------------------------------------------------------
-- The channel, point of sale and contact of a runtime call
--------------------------------------------------------------------------

-- in C (src/sale.c), which price and redeem_code call directly: one rule for every entry point
CREATE FUNCTION benefit.resolve_sale(channel text, point_of_sale text, contact_id bigint,
                                     channel_required boolean DEFAULT true,
                                     OUT channel_id bigint, OUT channel_kind benefit.channel_kind,
                                     OUT point_of_sale_id bigint)
AS 'MODULE_PATHNAME', 'benefit_resolve_sale'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.resolve_sale(text, text, bigint, boolean) IS
    '(C, src/sale.c; its statement runs with pg_catalog as the only schema searched, pinned in C) The references of a runtime call checked in one place, also by price and redeem_code: the sales channel by code (22004 when NULL and required, 22023 when unknown), the web point of sale by code (22023 when unknown or on another channel than the one given), the contact id (P0002 when unknown; NULL is an anonymous buyer); returns the channel id and kind and the point of sale id';

CREATE OR REPLACE FUNCTION benefit.channel_id(channel text)
RETURNS bigint
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.channel_id FROM benefit.resolve_sale(channel_id.channel, NULL, NULL) r
$$;
COMMENT ON FUNCTION benefit.channel_id(text) IS
    'The id of a sales channel given by code; 22004 for NULL, 22023 for an unknown code (benefit.resolve_sale)';

--------------------------------------------------------------------------
-- What a typed text is: the "Code avantage" box, for every entry point
--------------------------------------------------------------------------

-- Set-based and in PL/pgSQL: one call per statement, its plan kept for the
-- session (a SQL function called from a statement is planned again at every
-- execution of it); strict, so that no call is made when no code was entered.
CREATE FUNCTION benefit.read_codes(texts text[])
RETURNS TABLE (entered text, kind text, benefit_id bigint, code benefit.code)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 2
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a partner access code first: a 13-character access code may also
    -- happen to end in a valid check character (OPERAGRAND264)
    RETURN QUERY
    SELECT t.e,
           CASE WHEN p.benefit_id IS NOT NULL THEN 'partner'
                WHEN t.ok AND benefit.is_valid_code(t.t) THEN 'single_use'
                ELSE 'unknown' END,
           p.benefit_id,
           CASE WHEN p.benefit_id IS NULL AND t.ok AND benefit.is_valid_code(t.t) THEN t.t::benefit.code END
      FROM (SELECT u.e, btrim(u.e) AS t, coalesce(length(u.e) <= 200, false) AS ok
              FROM unnest(read_codes.texts) u(e)) t
      LEFT JOIN benefit.benefit p
        ON t.ok AND lower(p.access_code) = lower(t.t) AND p.target_type = 'partner';
END
$$;
COMMENT ON FUNCTION benefit.read_codes(text[]) IS
    'How every entry point (enter_code, available, price_basket, hold) reads a typed text, for each text given: equal (any case, trimmed) to a partner access code, it is that partner code (kind partner, its benefit); otherwise a well-formed single-use code (kind single_use, the code, whether issued or not); otherwise unknown (NULL, blank, malformed or over 200 characters)';

--------------------------------------------------------------------------
-- What a buyer can still take of a benefit
--------------------------------------------------------------------------

CREATE FUNCTION benefit.units_left(p_benefit_id bigint, p_contact_id bigint,
                                   OUT total_left integer, OUT contact_left integer)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT CASE WHEN b.quota_total IS NOT NULL THEN
               greatest(b.quota_total - coalesce((SELECT sum(ct.held + ct.used) FROM benefit.counter ct
                                                   WHERE ct.kind = 'benefit_slot' AND ct.owner_id = b.benefit_id), 0),
                        0)::integer END,
           CASE WHEN b.quota_per_contact IS NOT NULL THEN
               greatest(b.quota_per_contact - coalesce((SELECT ct.held + ct.used FROM benefit.counter ct
                                                         WHERE ct.kind = 'benefit_contact' AND ct.owner_id = b.benefit_id
                                                           AND ct.key = p_contact_id), 0),
                        0) END
      INTO units_left.total_left, units_left.contact_left
      FROM benefit.benefit b
     WHERE b.benefit_id = p_benefit_id;
END
$$;
COMMENT ON FUNCTION benefit.units_left(bigint, bigint) IS
    'Units of a benefit not yet held or used: of its total quota, and of the contact''s own limit (quota_per_contact; for an anonymous buyer, NULL contact, the whole limit); NULL where there is no limit; never below 0 (PL/pgSQL: its plan is kept for the session)';

-- eligibility keeps its result type: price (src/pricing.c) reads it, and the
-- library serves databases not yet updated, whose eligibility is 0.1.0's
CREATE OR REPLACE FUNCTION benefit.eligibility(contact_id bigint, channel text, point_of_sale text, at timestamptz,
                                              codes text[])
RETURNS TABLE (benefit_id bigint, target_type benefit.target_type, entered_code text,
               single_use_code benefit.code, reason benefit.reason)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_sale record;
    v_at timestamptz := coalesce(eligibility.at, now());
BEGIN
    SELECT * INTO v_sale FROM benefit.resolve_sale(eligibility.channel, eligibility.point_of_sale, eligibility.contact_id);
    IF cardinality(eligibility.codes) > 100 THEN
        RAISE EXCEPTION 'at most 100 codes may be entered at once, not %', cardinality(eligibility.codes)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY
    WITH entered AS (
        SELECT DISTINCT btrim(e) AS e
          FROM unnest(eligibility.codes) e
         WHERE e IS NOT NULL AND btrim(e) <> ''
    ), rd AS (
        SELECT r.entered AS e, r.kind, r.benefit_id, r.code
          FROM (SELECT array_agg(en.e) AS texts FROM entered en) a
         CROSS JOIN LATERAL benefit.read_codes(a.texts) r
    ), su AS (
        SELECT rd.e, c.code, c.benefit_id, c.state, c.hold_until
          FROM rd
          JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) rd.code
         WHERE rd.kind = 'single_use'
    ), partner AS (
        SELECT DISTINCT ON (rd.benefit_id) rd.e, rd.benefit_id
          FROM rd
         WHERE rd.kind = 'partner'
         ORDER BY rd.benefit_id, rd.e
    ), cand AS (
        SELECT b.benefit_id, NULL::text AS e, NULL::benefit.code AS code, NULL::benefit.reason AS code_reason
          FROM benefit.benefit b WHERE b.target_type = 'public' AND b.status = 'live'
        UNION ALL
        SELECT b.benefit_id, NULL, NULL, NULL
          FROM benefit.campaign_target ct
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
         WHERE ct.contact_id = eligibility.contact_id
        UNION ALL
        SELECT b.benefit_id, NULL, NULL, NULL
          FROM benefit.contact_indicator ci
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
         WHERE ci.contact_id = eligibility.contact_id
        UNION ALL
        SELECT p.benefit_id, p.e, NULL, NULL FROM partner p
        UNION ALL
        SELECT su.benefit_id, su.e, su.code,
               CASE WHEN su.state = 'used' THEN 'already_used'
                    WHEN su.state = 'invalidated' THEN 'invalidated'
                    WHEN su.state = 'held' AND su.hold_until >= v_at THEN 'held_by_other_order'
               END::benefit.reason
          FROM su
    )
    SELECT b.benefit_id, b.target_type, cand.e, cand.code,
           CASE WHEN cand.code_reason IS NOT NULL THEN cand.code_reason
                WHEN b.status <> 'live' THEN 'benefit_not_live'
                WHEN b.valid_from > v_at THEN 'not_yet_valid'
                WHEN b.valid_until <= v_at THEN 'expired'
                WHEN NOT b.all_channels
                     AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                      WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_sale.channel_id)
                THEN 'wrong_channel'
                WHEN b.point_of_sale_id IS NOT NULL AND v_sale.channel_kind = 'web'
                     AND b.point_of_sale_id IS DISTINCT FROM v_sale.point_of_sale_id
                THEN 'wrong_point_of_sale'
                WHEN b.quota_total IS NULL AND b.quota_per_contact IS NULL THEN 'ok'
                -- sold out, or this buyer's own limit used up: looked up last, only when it may be
                ELSE (SELECT CASE WHEN q.total_left = 0 THEN 'quota_exhausted'
                                  WHEN q.contact_left = 0 THEN 'contact_quota_exhausted'
                                  ELSE 'ok' END::benefit.reason
                        FROM benefit.units_left(b.benefit_id, eligibility.contact_id) q)
           END::benefit.reason
      FROM cand
      JOIN benefit.benefit b ON b.benefit_id = cand.benefit_id
    UNION ALL
    SELECT NULL, NULL, rd.e, NULL, 'unknown_code'::benefit.reason
      FROM rd
     WHERE rd.kind = 'unknown'
        OR (rd.kind = 'single_use' AND NOT EXISTS (SELECT 1 FROM su WHERE su.e = rd.e));
END
$$;
COMMENT ON FUNCTION benefit.eligibility(bigint, text, text, timestamptz, text[]) IS
    'The benefits a buyer may be offered on a channel (and web point of sale) at a time, with the codes entered (read by benefit.read_codes): live public benefits, the contact''s contacts and indicator benefits (target list and indicator level read now), and every benefit an entered partner or single-use code points to; each with ok or the reason it cannot be used (quota_exhausted when sold out, contact_quota_exhausted when the contact''s own limit is used up: benefit.units_left); entered codes that match nothing come back as unknown_code; the references are checked by benefit.resolve_sale';

CREATE OR REPLACE FUNCTION benefit.available(contact_id bigint, channel text, at timestamptz DEFAULT NULL,
                                             codes text[] DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                             client_key text DEFAULT NULL)
RETURNS TABLE (benefit_id bigint, benefit_code text, name text, target_type benefit.target_type,
               entered_code text, reason benefit.reason, valid_until timestamptz,
               quota_left integer, tariffs jsonb)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_keyed boolean := available.contact_id IS NOT NULL OR available.client_key IS NOT NULL;
    v_entered text[] := ARRAY(SELECT DISTINCT btrim(e) FROM unnest(available.codes) e
                               WHERE e IS NOT NULL AND btrim(e) <> '' ORDER BY 1);
    v_throttled boolean;
    v_unknown integer := 0;
    r record;
BEGIN
    -- entered codes from a throttled contact or client key are not looked at
    v_throttled := v_keyed AND cardinality(v_entered) > 0
                   AND benefit.is_throttled(available.contact_id, available.client_key);
    FOR r IN
        WITH e AS (
            SELECT el.* FROM benefit.eligibility(available.contact_id, available.channel, available.point_of_sale,
                                                 available.at, CASE WHEN v_throttled THEN NULL ELSE available.codes END) el
             -- usable ones, those this buyer can no longer use (sold out, own limit used up), and
             -- whatever an entered code points to
             WHERE el.reason IN ('ok', 'quota_exhausted', 'contact_quota_exhausted') OR el.entered_code IS NOT NULL
        )
        SELECT e.benefit_id, b.code, b.name, e.target_type, e.entered_code, e.reason, b.valid_until,
               -- units this buyer may still take: the least of the total quota left, the contact's
               -- limit left and the per-order limit (NULL: no limit)
               -- (looked up only for a benefit with a limit)
               CASE WHEN b.quota_total IS NULL AND b.quota_per_contact IS NULL THEN b.quota_per_order
                    ELSE (SELECT LEAST(q.total_left, q.contact_left, b.quota_per_order)
                            FROM benefit.units_left(e.benefit_id, available.contact_id) q)
               END AS quota_left,
               (SELECT jsonb_agg(jsonb_build_object(
                           'tariff_id', t.tariff_id, 'product_id', t.product_id, 'performance_id', t.performance_id,
                           'seat_category_id', t.seat_category_id, 'audience_id', t.audience_id,
                           'price_cents', t.price_cents, 'amount_off_cents', t.amount_off_cents,
                           'percent_off', t.percent_off) ORDER BY t.tariff_id)
                  FROM benefit.benefit_tariff t WHERE t.benefit_id = e.benefit_id) AS tariffs
          FROM e
          LEFT JOIN benefit.benefit b ON b.benefit_id = e.benefit_id
         ORDER BY e.reason <> 'ok', b.code, e.entered_code
    LOOP
        available.benefit_id := r.benefit_id;
        available.benefit_code := r.code;
        available.name := r.name;
        available.target_type := r.target_type;
        available.entered_code := r.entered_code;
        available.reason := r.reason;
        available.valid_until := r.valid_until;
        available.quota_left := r.quota_left;
        available.tariffs := r.tariffs;
        IF r.reason = 'unknown_code' THEN
            v_unknown := v_unknown + 1;
        END IF;
        RETURN NEXT;
    END LOOP;
    IF v_throttled THEN
        RETURN QUERY SELECT NULL::bigint, NULL::text, NULL::text, NULL::benefit.target_type, e,
                            'throttled'::benefit.reason, NULL::timestamptz, NULL::integer, NULL::jsonb
                       FROM unnest(v_entered) e;
    ELSIF v_keyed AND v_unknown > 0 THEN
        PERFORM benefit.record_code_failures(available.contact_id, available.client_key, v_unknown);
    END IF;
END
$$;
COMMENT ON FUNCTION benefit.available(bigint, text, timestamptz, text[], text, text) IS
    'The benefits a buyer (NULL contact: anonymous) may use now on a channel (and web point of sale), given the codes entered: each usable one with its target type, validity end, the units this buyer may still take (NULL: no limit) and its tariff rows (products); then those the buyer can no longer use (quota_exhausted: sold out; contact_quota_exhausted: the contact''s own limit used up) and every entered code that unlocks nothing, with their reason; 22023 for an unknown channel or point of sale, P0002 for an unknown contact';

CREATE OR REPLACE FUNCTION benefit.contacts_with_benefits(contact_ids bigint[], channel text, at timestamptz DEFAULT NULL)
RETURNS TABLE (contact_id bigint, benefits integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_channel_id bigint := (benefit.resolve_sale(contacts_with_benefits.channel, NULL, NULL)).channel_id;
    v_at timestamptz := coalesce(contacts_with_benefits.at, now());
BEGIN
    IF cardinality(contacts_with_benefits.contact_ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 contacts at once, not %', cardinality(contacts_with_benefits.contact_ids)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    -- an id of no contact is skipped, not refused: a screen of contacts read from another system
    -- may show one deleted or merged since, and it has no personal benefit (the icon stays off)
    RETURN QUERY
    WITH ids AS (
        SELECT DISTINCT u.id FROM unnest(contacts_with_benefits.contact_ids) u(id) WHERE u.id IS NOT NULL
    ), personal AS (
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels,
               b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL AS limited
          FROM ids
          JOIN benefit.campaign_target ct ON ct.contact_id = ids.id
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
        UNION ALL
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels,
               b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL
          FROM ids
          JOIN benefit.contact_indicator ci ON ci.contact_id = ids.id
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
    ), usable AS (
        SELECT p.id, p.benefit_id, p.limited
          FROM personal p
         WHERE (p.valid_from IS NULL OR p.valid_from <= v_at)
           AND (p.valid_until IS NULL OR p.valid_until > v_at)
           AND (p.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                           WHERE bc.benefit_id = p.benefit_id AND bc.channel_id = v_channel_id))
    )
    SELECT x.id, count(DISTINCT x.benefit_id)::integer
      FROM usable x
     -- not sold out, and the contact's own limit not used up (eligibility's quota reasons), looked
     -- up only for a benefit with a limit
     WHERE CASE WHEN NOT x.limited THEN true
                ELSE (SELECT q.total_left IS DISTINCT FROM 0 AND q.contact_left IS DISTINCT FROM 0
                        FROM benefit.units_left(x.benefit_id, x.id) q) END
     GROUP BY x.id
     ORDER BY x.id;
END
$$;
COMMENT ON FUNCTION benefit.contacts_with_benefits(bigint[], text, timestamptz) IS
    'The box-office gift icon: of a list of contacts (up to 10,000), those with a personal benefit (contacts or indicator target) they can still use now on the channel (live, valid, on the channel, not sold out, their own limit not used up), with how many; one set-based call; ids of no contact are skipped';

--------------------------------------------------------------------------
-- The "Code avantage" box and code holds: references checked, text read once
--------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benefit.enter_code(code text, channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                              contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS TABLE (kind text, reason benefit.reason, benefit_id bigint, benefit_code text, benefit_name text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sale record;
    v_read record;
    c record;
    b record;
BEGIN
    -- what the application passes is checked; what the buyer types never raises
    SELECT * INTO v_sale FROM benefit.resolve_sale(enter_code.channel, enter_code.point_of_sale, enter_code.contact_id, false);
    IF (enter_code.contact_id IS NOT NULL OR enter_code.client_key IS NOT NULL)
       AND benefit.is_throttled(enter_code.contact_id, enter_code.client_key) THEN
        RETURN QUERY SELECT 'unknown'::text, 'throttled'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    SELECT r.kind, r.benefit_id, r.code INTO v_read FROM benefit.read_codes(ARRAY[enter_code.code]) r;
    IF v_read.kind = 'single_use' THEN
        SELECT sc.*, bb.code AS bcode, bb.name AS bname INTO c
          FROM benefit.single_use_code sc JOIN benefit.benefit bb ON bb.benefit_id = sc.benefit_id
         WHERE sc.code OPERATOR(benefit.=) v_read.code;
        IF NOT FOUND THEN
            PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
            RETURN QUERY SELECT 'single_use'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        ELSE
            RETURN QUERY SELECT 'single_use'::text,
                                benefit.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, NULL,
                                                       enter_code.channel, enter_code.point_of_sale),
                                c.benefit_id, c.bcode, c.bname;
        END IF;
    ELSIF v_read.kind = 'partner' THEN
        SELECT bb.benefit_id, bb.code, bb.name, bb.status, bb.valid_from, bb.valid_until, bb.all_channels INTO b
          FROM benefit.benefit bb WHERE bb.benefit_id = v_read.benefit_id;
        RETURN QUERY SELECT 'partner'::text,
            CASE WHEN b.status <> 'live' THEN 'benefit_not_live'
                 WHEN b.valid_from > now() THEN 'not_yet_valid'
                 WHEN b.valid_until <= now() THEN 'expired'
                 WHEN v_sale.channel_id IS NOT NULL AND NOT b.all_channels
                      AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                       WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_sale.channel_id)
                 THEN 'wrong_channel'
                 ELSE 'ok' END::benefit.reason,
            b.benefit_id, b.code, b.name;
    ELSE
        PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
        RETURN QUERY SELECT 'unknown'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
    END IF;
END
$$;
COMMENT ON FUNCTION benefit.enter_code(text, text, text, bigint, text) IS
    'The web "Code avantage" box and the box-office Avantages button: reads the text typed as every entry point does (benefit.read_codes: a partner access code first, then a single-use code), says which benefit it unlocks and whether it can be used now (reason); never raises for what a buyer types (22023 / P0002 for an unknown channel, point of sale or contact the application passes); uses nothing';

-- hold_code (30_throttle_and_read_only.sql) checks its channel, point of sale and contact with
-- benefit.resolve_sale too.
--------------------------------------------------------------------------
-- JSON clients: one parser, one thin wrapper per runtime call
--------------------------------------------------------------------------

CREATE TYPE benefit.call_args AS (
    order_ref   text,
    lines       benefit.basket_line[],
    contact_id  bigint,
    channel     text,
    point_of_sale text,
    at          timestamptz,
    held_until  timestamptz,
    hold_until  timestamptz,
    codes       text[],
    promo_code  text,
    client_key  text,
    code        text
);
COMMENT ON TYPE benefit.call_args IS
    'The arguments of a runtime call read from JSON by benefit.parse_call, named as the typed calls name them (internal)';
REVOKE ALL ON TYPE benefit.call_args FROM PUBLIC;

CREATE FUNCTION benefit.parse_call(args jsonb, fn text)
RETURNS benefit.call_args
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fn text := format('benefit.%s(jsonb)', fn);
    v_keys jsonb;               -- key -> type, from the typed call's arguments
    v_names text[];             -- the keys in argument order, for messages
    v_line_keys jsonb;          -- key -> type, from benefit.basket_line
    v_line_names text[];
    p record;
    v_ts text;
BEGIN
    IF args IS NULL THEN
        RAISE EXCEPTION '% needs a JSON object, not NULL', v_fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF jsonb_typeof(args) <> 'object' THEN
        RAISE EXCEPTION 'the argument of % must be a JSON object, not %', v_fn, left(args::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the keys are the names of the typed call's input arguments, with their types
    SELECT jsonb_object_agg(a.argname, format_type(a.argtype, NULL)), array_agg(a.argname ORDER BY a.n)
      INTO v_keys, v_names
      FROM pg_proc pr,
           unnest(pr.proargnames, coalesce(pr.proallargtypes, pr.proargtypes::oid[]), pr.proargmodes)
               WITH ORDINALITY a(argname, argtype, argmode, n)
     WHERE pr.pronamespace = 'benefit'::regnamespace AND pr.proname = parse_call.fn
       AND NOT (pr.pronargs = 1 AND pr.proargtypes[0] = 'jsonb'::regtype)
       AND (a.argmode IS NULL OR a.argmode IN ('i', 'b'));
    IF v_keys IS NULL THEN
        RAISE EXCEPTION 'no typed form of %', v_fn USING ERRCODE = 'internal_error';
    END IF;
    IF jsonb_typeof(args -> 'lines') = 'array' THEN
        SELECT jsonb_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)), array_agg(a.attname::text ORDER BY a.attnum)
          INTO v_line_keys, v_line_names
          FROM pg_attribute a
         WHERE a.attrelid = 'benefit.basket_line'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    END IF;

    -- the first key, at the top or in a basket line, that is unknown or has the wrong JSON type
    SELECT i.line, i.key, i.value, x.problem INTO p
      FROM (SELECT 0::bigint AS line, e.key, e.value, v_keys ->> e.key AS type
              FROM jsonb_each(args) e
            UNION ALL
            SELECT l.n, le.key, coalesce(le.value, l.line),
                   CASE WHEN jsonb_typeof(l.line) = 'object' THEN v_line_keys ->> le.key ELSE 'basket line' END
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(args -> 'lines') = 'array' THEN args -> 'lines' END)
                       WITH ORDINALITY l(line, n)
              LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(l.line) = 'object' THEN l.line END) le ON true
             WHERE jsonb_typeof(l.line) <> 'object' OR le.key IS NOT NULL) i
     CROSS JOIN LATERAL (SELECT CASE
                WHEN i.type IS NULL THEN 'unknown'
                WHEN i.type = 'basket line' THEN 'a JSON object'
                WHEN jsonb_typeof(i.value) = 'null' THEN NULL
                WHEN i.type IN ('text', 'benefit.code', 'timestamp with time zone') THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'string' THEN 'a JSON string' END
                WHEN i.type IN ('bigint', 'integer') THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'number' OR i.value::text !~ '^-?[0-9]{1,19}$' THEN 'an integer'
                         WHEN i.value::numeric NOT BETWEEN CASE i.type WHEN 'integer' THEN -2147483648 ELSE -9223372036854775808 END
                                                       AND CASE i.type WHEN 'integer' THEN 2147483647 ELSE 9223372036854775807 END
                         THEN 'an integer'
                    END
                WHEN i.type = 'text[]' THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'array'
                              OR EXISTS (SELECT 1 FROM jsonb_array_elements(i.value) v WHERE jsonb_typeof(v) <> 'string')
                         THEN 'an array of strings' END
                WHEN i.type = 'benefit.basket_line[]' THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'array' THEN 'an array of line objects' END
                ELSE 'of type ' || i.type
           END AS problem) x
     WHERE x.problem IS NOT NULL
     ORDER BY i.line, i.key
     LIMIT 1;
    IF FOUND AND p.problem = 'unknown' THEN
        IF p.line = 0 THEN
            RAISE EXCEPTION 'unknown key "%"', p.key USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s takes the keys %s.', v_fn, array_to_string(v_names, ', '));
        END IF;
        RAISE EXCEPTION 'unknown key "%" in line %', p.key, p.line USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('A basket line takes the keys %s.', array_to_string(v_line_names, ', '));
    ELSIF FOUND AND p.key IS NULL THEN
        RAISE EXCEPTION 'line % must be %, not %', p.line, p.problem, left(p.value::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    ELSIF FOUND AND p.line = 0 THEN
        RAISE EXCEPTION 'key "%" must be %, not %', p.key, p.problem, left(p.value::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'key "%" of line % must be %, not %', p.key, p.line, p.problem, left(p.value::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- timestamps: a string that is no timestamp names its key too
    FOR p IN SELECT e.key, e.value #>> '{}' AS v FROM jsonb_each(args) e
              WHERE v_keys ->> e.key = 'timestamp with time zone' AND jsonb_typeof(e.value) = 'string' LOOP
        BEGIN
            PERFORM p.v::timestamptz;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION 'key "%" must be a timestamp, not "%"', p.key, left(p.v, 60)
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Write it as ISO 8601 with its offset: "2026-12-01T20:00:00+01:00".';
        END;
    END LOOP;
    RETURN jsonb_populate_record(NULL::benefit.call_args, args);
END
$$;
COMMENT ON FUNCTION benefit.parse_call(jsonb, text) IS
    'The one JSON reader of the jsonb forms of the runtime calls: the keys of benefit.<fn>(jsonb) are the input argument names of the typed benefit.<fn>, with their types (a JSON string for text, a code or a timestamp, an integer for an id, an array of strings for codes, an array of objects with the keys of benefit.basket_line for lines; null for NULL); an unknown key, also inside a basket line, or a wrong JSON type is an error (22023) naming the key';

CREATE OR REPLACE FUNCTION benefit.price_basket(basket jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(price_basket.basket, 'price_basket');
BEGIN
    RETURN to_jsonb(benefit.price_basket(a.lines, a.contact_id, a.channel, a.point_of_sale, a.at, a.codes,
                                         a.promo_code, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.price_basket(jsonb) IS
    'price_basket for JSON clients: {"lines": [{"product_id", "performance_id", "seat_category_id", "audience_id", "quantity", "base_price_cents"}], "contact_id", "channel", "point_of_sale", "at", "codes": [...], "promo_code", "client_key"} in (the argument names of the typed call; an unknown key or a wrong JSON type is 22023), the priced basket as a JSON object out';

CREATE FUNCTION benefit.hold(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(hold.args, 'hold');
BEGIN
    RETURN to_jsonb(benefit.hold(a.order_ref, a.lines, a.contact_id, a.channel, a.held_until, a.codes, a.promo_code,
                                 a.point_of_sale, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.hold(jsonb) IS
    'hold for JSON clients: {"order_ref", "lines": [...], "contact_id", "channel", "held_until", "codes", "promo_code", "point_of_sale", "client_key"} in (the argument names of the typed call; an unknown key or a wrong JSON type is 22023), the priced basket with its reason, order_ref and held_until as a JSON object out';

CREATE FUNCTION benefit.confirm(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(confirm.args, 'confirm');
BEGIN
    RETURN jsonb_build_object('reason', benefit.confirm(a.order_ref));
END
$$;
COMMENT ON FUNCTION benefit.confirm(jsonb) IS
    'confirm for JSON clients: {"order_ref"} in, {"reason"} out (benefit.confirm(''ref'') with a plain string literal is the typed call)';

CREATE FUNCTION benefit.release(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(release.args, 'release');
BEGIN
    RETURN jsonb_build_object('reason', benefit.release(a.order_ref));
END
$$;
COMMENT ON FUNCTION benefit.release(jsonb) IS
    'release for JSON clients: {"order_ref"} in, {"reason"} out (benefit.release(''ref'') with a plain string literal is the typed call)';

CREATE FUNCTION benefit.redeem_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(redeem_code.args, 'redeem_code');
BEGIN
    RETURN to_jsonb(benefit.redeem_code(a.code::benefit.code, a.contact_id, a.order_ref, a.channel, a.point_of_sale,
                                        a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.redeem_code(jsonb) IS
    'redeem_code for JSON clients: {"code", "contact_id", "order_ref", "channel", "point_of_sale", "client_key"} in (22P02 for a malformed code, as the typed call), {"reason", "code", "benefit_id", "benefit_code", "used_at"} out';

CREATE FUNCTION benefit.enter_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(enter_code.args, 'enter_code');
BEGIN
    RETURN (SELECT to_jsonb(e) FROM benefit.enter_code(a.code, a.channel, a.point_of_sale, a.contact_id, a.client_key) e);
END
$$;
COMMENT ON FUNCTION benefit.enter_code(jsonb) IS
    'enter_code for JSON clients: {"code", "channel", "point_of_sale", "contact_id", "client_key"} in, {"kind", "reason", "benefit_id", "benefit_code", "benefit_name"} out (benefit.enter_code(''text'') with a plain string literal is the typed call)';

CREATE FUNCTION benefit.available(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(available.args, 'available');
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'ordinality' ORDER BY x.ordinality), '[]'::jsonb)
              FROM benefit.available(a.contact_id, a.channel, a.at, a.codes, a.point_of_sale, a.client_key)
                   WITH ORDINALITY x);
END
$$;
COMMENT ON FUNCTION benefit.available(jsonb) IS
    'available for JSON clients: {"contact_id", "channel", "at", "codes", "point_of_sale", "client_key"} in, a JSON array of objects out, one per row of the typed call in its order';

CREATE FUNCTION benefit.hold_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(hold_code.args, 'hold_code');
BEGIN
    RETURN jsonb_build_object('reason', benefit.hold_code(a.code::benefit.code, a.order_ref, a.hold_until, a.channel,
                                                          a.point_of_sale, a.contact_id, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.hold_code(jsonb) IS
    'hold_code for JSON clients: {"code", "order_ref", "hold_until", "channel", "point_of_sale", "contact_id", "client_key"} in, {"reason"} out';

CREATE FUNCTION benefit.release_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(release_code.args, 'release_code');
BEGIN
    IF a.code IS NULL OR a.order_ref IS NULL THEN
        RAISE EXCEPTION 'code and order_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN jsonb_build_object('reason', benefit.release_code(a.code::benefit.code, a.order_ref, a.contact_id, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.release_code(jsonb) IS
    'release_code for JSON clients: {"code", "order_ref", "contact_id", "client_key"} in (code and order_ref required: 22004), {"reason"} out';

--------------------------------------------------------------------------
-- Privileges: the helpers are internal; the JSON forms go where the typed ones go
--------------------------------------------------------------------------

REVOKE ALL ON FUNCTION benefit.resolve_sale(text, text, bigint, boolean), benefit.read_codes(text[]),
    benefit.units_left(bigint, bigint), benefit.parse_call(jsonb, text),
    benefit.hold(jsonb), benefit.confirm(jsonb), benefit.release(jsonb), benefit.redeem_code(jsonb),
    benefit.enter_code(jsonb), benefit.available(jsonb), benefit.hold_code(jsonb), benefit.release_code(jsonb)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    benefit.hold(jsonb), benefit.confirm(jsonb), benefit.release(jsonb), benefit.redeem_code(jsonb),
    benefit.enter_code(jsonb), benefit.available(jsonb), benefit.hold_code(jsonb), benefit.release_code(jsonb)
    TO benefit_sales, benefit_admin;
-- 0.2.0: every season date is read in UTC, whatever the session's TimeZone
-- (the rule itself, season_day_start and list_validity_problems, is in
-- 10_audit_and_references.sql, where list_promo_problems needs it first);
-- REPEATABLE READ and SERIALIZABLE callers of hold, expire_holds and
-- expire_code_holds get a business reason or a clean 40001, never another
-- error.

--------------------------------------------------------------------------
-- Time zones
--------------------------------------------------------------------------

COMMENT ON COLUMN benefit.season.starts_on IS
    'First day of the season, a calendar day in UTC: the season starts at its midnight UTC (benefit.season_day_start), whatever the session''s TimeZone';
COMMENT ON COLUMN benefit.season.ends_on IS
    'Last day of the season (not before starts_on), a calendar day in UTC: the season ends at the next midnight UTC';

CREATE OR REPLACE FUNCTION benefit.list_problems(p_benefit_id bigint)
RETURNS TABLE (field text, problem text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH b AS (
        SELECT b.*, s.starts_on, s.ends_on
          FROM benefit.benefit b
          JOIN benefit.season s ON s.season_id = b.season_id
         WHERE b.benefit_id = p_benefit_id
    ), chan AS (
        SELECT c.kind
          FROM b
          JOIN benefit.sales_channel c
            ON b.all_channels
            OR c.channel_id IN (SELECT bc.channel_id FROM benefit.benefit_channel bc
                                 WHERE bc.benefit_id = b.benefit_id)
    )
    SELECT 'campaign_id', 'a contacts benefit needs a campaign'
      FROM b WHERE b.target_type = 'contacts' AND b.campaign_id IS NULL
    UNION ALL
    SELECT 'campaign_id', format('campaign %s is for another season than the benefit', c.code)
      FROM b JOIN benefit.campaign c ON c.campaign_id = b.campaign_id
     WHERE c.season_id <> b.season_id
    UNION ALL
    SELECT 'indicator_level_id', 'an indicator benefit needs an indicator level'
      FROM b WHERE b.target_type = 'indicator' AND b.indicator_level_id IS NULL
    UNION ALL
    SELECT 'access_code', 'a partner benefit needs an access code'
      FROM b WHERE b.target_type = 'partner' AND b.access_code IS NULL
    UNION ALL
    SELECT 'point_of_sale_id', 'a single-use benefit sold on the web needs a web point of sale'
      FROM b WHERE b.target_type = 'single_use' AND b.point_of_sale_id IS NULL
       AND EXISTS (SELECT 1 FROM chan WHERE chan.kind = 'web')
    UNION ALL
    SELECT 'point_of_sale_id', format('point of sale %s is not on a channel the benefit is sold on', p.code)
      FROM b JOIN benefit.point_of_sale p ON p.point_of_sale_id = b.point_of_sale_id
     WHERE NOT b.all_channels
       AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                        WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = p.channel_id)
    UNION ALL
    SELECT 'quota_total', format('a %s benefit needs a total quota', b.target_type)
      FROM b WHERE b.target_type IN ('partner', 'single_use') AND b.quota_total IS NULL
    UNION ALL
    SELECT 'channels', 'no sales channel: set all_channels or add rows to benefit_channel'
      FROM b WHERE NOT b.all_channels
       AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc WHERE bc.benefit_id = b.benefit_id)
    UNION ALL
    SELECT 'channels', 'all_channels is set and benefit_channel has rows too: keep one of them'
      FROM b WHERE b.all_channels
       AND EXISTS (SELECT 1 FROM benefit.benefit_channel bc WHERE bc.benefit_id = b.benefit_id)
    UNION ALL
    SELECT 'tariff', 'no tariff rows'
      FROM b WHERE NOT EXISTS (SELECT 1 FROM benefit.benefit_tariff t WHERE t.benefit_id = b.benefit_id)
    UNION ALL
    SELECT 'tariff', format('product %s is in another season than the benefit', p.code)
      FROM b
      JOIN benefit.product p
        ON p.product_id IN (SELECT t.product_id FROM benefit.benefit_tariff t WHERE t.benefit_id = b.benefit_id)
     WHERE p.season_id <> b.season_id
    UNION ALL
    SELECT v.field, v.problem
      FROM b, benefit.list_validity_problems(b.valid_from, b.valid_until, b.starts_on, b.ends_on) v
$$;
COMMENT ON FUNCTION benefit.list_problems(bigint) IS
    'What keeps a benefit from being validated or going live: one row per problem, naming the field; no rows when it is complete; season days are read in UTC, whatever the session''s TimeZone (list_validity_problems)';

-- Live benefits that the new reference checks would already refuse: the
-- update keeps them live and says which, so that a DBA can fix them.  Run
-- here, once list_problems reads season days in UTC: the warning does not
-- depend on the TimeZone of the session that runs the update.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT b.code, string_agg(format('%s: %s', p.field, p.problem), '; ' ORDER BY p.field, p.problem) AS problems
          FROM benefit.benefit b, benefit.list_problems(b.benefit_id) p
         WHERE b.status = 'live' AND p.problem <> 'the validity has already ended'
         GROUP BY b.code
         ORDER BY b.code
    LOOP
        RAISE WARNING 'live benefit "%" is incomplete: %', r.code, r.problems
            USING HINT = 'Suspend it with benefit.suspend(), fix it, then call benefit.go_live() again.';
    END LOOP;
END
$$;

--------------------------------------------------------------------------
-- Isolation levels
--
-- Under REPEATABLE READ and SERIALIZABLE a transaction sees the rows of its
-- snapshot, and locking or updating a row that another transaction changed
-- since fails with 40001.  A caller gets a business reason or that clean
-- 40001 (retry the transaction), never another error; the maintenance jobs
-- skip what another call decided since their snapshot instead of failing.
-- READ COMMITTED callers take the same paths as before, at the same cost.
--------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benefit.hold(order_ref text, lines benefit.basket_line[], contact_id bigint, channel text,
                                        held_until timestamptz, codes text[] DEFAULT NULL, promo_code text DEFAULT NULL,
                                        point_of_sale text DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.priced_basket
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    p record;
    r benefit.priced_basket;
    u record;
    v_ref text := hold.order_ref;
    v_reason benefit.reason;
    v_state benefit.code_state;
    v_constraint text;
    l benefit.priced_line;
BEGIN
    PERFORM benefit.require_writable('benefit.hold()');
    IF v_ref IS NULL OR btrim(v_ref) = '' OR length(v_ref) > 200 THEN
        RAISE EXCEPTION 'order_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    ELSIF hold.held_until IS NULL OR hold.held_until <= now() OR hold.held_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'held_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('held_until was %s.', coalesce(hold.held_until::text, 'NULL'));
    END IF;
    p := benefit.price_guarded(hold.lines, hold.contact_id, hold.channel, hold.point_of_sale, now(), hold.codes,
                               hold.promo_code, hold.client_key);
    r := p.result;
    IF EXISTS (SELECT 1 FROM benefit.order_hold h WHERE h.order_ref = v_ref) THEN
        r.reason := 'order_already_held';
        RETURN r;
    END IF;

    BEGIN
        INSERT INTO benefit.order_hold (order_ref, contact_id, channel, point_of_sale, held_until, promo_code_id,
                                        base_cents, lines_cents, promo_discount_cents, total_cents)
        VALUES (v_ref, hold.contact_id, hold.channel, hold.point_of_sale, hold.held_until, p.promo_id,
                r.base_cents, r.lines_cents, r.promo_discount_cents, r.total_cents);
        FOREACH l IN ARRAY r.lines LOOP
            INSERT INTO benefit.order_line (order_ref, line_no, product_id, performance_id, seat_category_id,
                                            audience_id, quantity, base_price_cents, unit_price_cents, benefit_id,
                                            tariff_id, promo_discount_cents, total_cents)
            VALUES (v_ref, l.line_no, l.product_id, l.performance_id, l.seat_category_id, l.audience_id, l.quantity,
                    l.base_price_cents, l.unit_price_cents, l.benefit_id, l.tariff_id, l.promo_discount_cents,
                    l.total_cents);
        END LOOP;

        -- the lock order of every runtime call: the order row, single-use codes (by code), then
        -- counters (by kind, owner, key)
        FOR u IN SELECT DISTINCT (x ->> 'code')::benefit.code AS code
                   FROM jsonb_array_elements(p.uses) x WHERE x ->> 'code' IS NOT NULL ORDER BY 1 LOOP
            UPDATE benefit.single_use_code c
               SET state = 'held', hold_order = v_ref, hold_until = hold.held_until
             WHERE c.code OPERATOR(benefit.=) u.code
               AND (c.state = 'issued' OR (c.state = 'held' AND c.hold_until < clock_timestamp()))
            RETURNING 'issued'::benefit.code_state INTO v_state;
            IF NOT FOUND THEN
                SELECT c.state INTO v_state FROM benefit.single_use_code c WHERE c.code OPERATOR(benefit.=) u.code;
                RAISE EXCEPTION '%', CASE v_state WHEN 'used' THEN 'already_used' WHEN 'invalidated' THEN 'invalidated'
                                                  ELSE 'held_by_other_order' END
                      USING ERRCODE = 'VB001';
            END IF;
            INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel)
            VALUES (u.code, 'issued', 'held', v_ref, hold.contact_id, hold.channel);
            INSERT INTO benefit.order_code (order_ref, code) VALUES (v_ref, u.code);
        END LOOP;
        -- then counters in lock order: total quota slots, per performance, per contact (by
        -- benefit), then the promo code's slots and per-contact counter
        FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, sum((x ->> 'units')::integer)::integer AS units
                   FROM jsonb_array_elements(p.uses) x GROUP BY 1 ORDER BY 1 LOOP
            IF NOT benefit.take_slots(v_ref, 'benefit_slot', u.benefit_id, u.units) THEN
                RAISE EXCEPTION 'quota_exhausted' USING ERRCODE = 'VB001';
            END IF;
        END LOOP;
        FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, (x ->> 'performance_id')::bigint AS performance_id,
                        sum((x ->> 'units')::integer)::integer AS units, b.quota_per_performance AS lim
                   FROM jsonb_array_elements(p.uses) x
                   JOIN benefit.benefit b ON b.benefit_id = (x ->> 'benefit_id')::bigint
                  WHERE x ->> 'performance_id' IS NOT NULL
                  GROUP BY 1, 2, 4 ORDER BY 1, 2 LOOP
            IF NOT benefit.take_limited(v_ref, 'benefit_performance', u.benefit_id, u.performance_id, u.units, u.lim) THEN
                RAISE EXCEPTION 'performance_quota_exhausted' USING ERRCODE = 'VB001';
            END IF;
        END LOOP;
        IF hold.contact_id IS NOT NULL THEN
            FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, sum((x ->> 'units')::integer)::integer AS units,
                            b.quota_per_contact AS lim
                       FROM jsonb_array_elements(p.uses) x
                       JOIN benefit.benefit b ON b.benefit_id = (x ->> 'benefit_id')::bigint
                      WHERE b.quota_per_contact IS NOT NULL
                      GROUP BY 1, 3 ORDER BY 1 LOOP
                IF NOT benefit.take_limited(v_ref, 'benefit_contact', u.benefit_id, hold.contact_id, u.units, u.lim) THEN
                    RAISE EXCEPTION 'contact_quota_exhausted' USING ERRCODE = 'VB001';
                END IF;
            END LOOP;
        END IF;
        IF p.promo_id IS NOT NULL THEN
            IF NOT benefit.take_slots(v_ref, 'promo_slot', p.promo_id, 1) THEN
                RAISE EXCEPTION 'promo_limit_reached' USING ERRCODE = 'VB001';
            END IF;
            IF hold.contact_id IS NOT NULL AND NOT benefit.take_limited(
                    v_ref, 'promo_contact', p.promo_id, hold.contact_id, 1,
                    coalesce((SELECT pc.max_uses_per_contact FROM benefit.promo_code pc WHERE pc.promo_code_id = p.promo_id),
                             2147483647)) THEN
                RAISE EXCEPTION 'promo_contact_limit_reached' USING ERRCODE = 'VB001';
            END IF;
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'VB001' THEN
            r.reason := SQLERRM::benefit.reason;    -- everything above is rolled back
            RETURN r;
        WHEN unique_violation THEN
            -- The same order held concurrently: the violation of the order's primary key proves
            -- it, also when this transaction's snapshot (REPEATABLE READ) cannot see that row.
            -- (SERIALIZABLE raises 40001 before the violation, when it cannot order the two.)
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint = 'order_hold_pkey' THEN
                r.reason := 'order_already_held';
                RETURN r;
            END IF;
            RAISE;
    END;
    r.order_ref := v_ref;
    r.held_until := hold.held_until;
    RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION benefit.expire_holds()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_orders text[];
    v_ref text;
BEGIN
    PERFORM benefit.require_writable('benefit.expire_holds()');
    IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
        -- holds being confirmed or released right now are skipped: that call decides
        WITH due AS (
            SELECT o.order_ref FROM benefit.order_hold o
             WHERE o.state = 'held' AND o.held_until < clock_timestamp()
             ORDER BY o.held_until
             LIMIT 1000
               FOR UPDATE SKIP LOCKED
        ), expired AS (
            UPDATE benefit.order_hold o SET state = 'expired', closed_at = now(), closed_by = SESSION_USER
              FROM due WHERE o.order_ref = due.order_ref
            RETURNING o.order_ref
        )
        SELECT array_agg(e.order_ref ORDER BY e.order_ref) INTO v_orders FROM expired e;
    ELSE
        -- REPEATABLE READ, SERIALIZABLE: the snapshot may still show as held (the same holds
        -- as above) a hold that another run, a confirm or a release has closed since; locking
        -- it fails with 40001.  That call decided: the hold is skipped.  So the holds are
        -- locked one by one, each in a subtransaction (at these isolation levels only); a hold
        -- being closed right now is skipped as above.
        FOR v_ref IN SELECT o.order_ref FROM benefit.order_hold o
                      WHERE o.state = 'held' AND o.held_until < clock_timestamp()
                      ORDER BY o.held_until
                      LIMIT 1000 LOOP
            BEGIN
                PERFORM FROM benefit.order_hold o WHERE o.order_ref = v_ref FOR UPDATE SKIP LOCKED;
                IF FOUND THEN
                    v_orders := v_orders || v_ref;
                END IF;
            EXCEPTION WHEN serialization_failure THEN
                NULL;
            END;
        END LOOP;
        UPDATE benefit.order_hold o SET state = 'expired', closed_at = now(), closed_by = SESSION_USER
         WHERE o.order_ref = ANY (v_orders);
    END IF;
    IF v_orders IS NULL THEN
        RETURN 0;
    END IF;
    -- the common lock order: order rows (locked above), codes, counters; a code or counter
    -- changed since the snapshot (REPEATABLE READ, SERIALIZABLE) fails the call with 40001
    PERFORM benefit.lock_codes(v_orders);
    PERFORM benefit.settle(v_orders, false);
    PERFORM benefit.release_codes(v_orders, 'hold expired');
    RETURN cardinality(v_orders);
END
$$;
COMMENT ON FUNCTION benefit.expire_holds() IS
    'Gives back the units, codes and promo uses of holds past their deadline (at most 1,000 a call; run it every minute, e.g. with pg_cron); safe to run concurrently: a hold being confirmed or released right now (SKIP LOCKED), or closed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, is skipped; returns how many holds expired';

CREATE OR REPLACE FUNCTION benefit.expire_code_holds()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    n bigint := 0;
    k record;
BEGIN
    PERFORM benefit.require_writable('benefit.expire_code_holds()');
    IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
        WITH expired AS (
            UPDATE benefit.single_use_code sc SET state = 'issued', hold_order = NULL, hold_until = NULL
              FROM (SELECT c.code, c.hold_order FROM benefit.single_use_code c
                     WHERE c.state = 'held' AND c.hold_until < now()
                       FOR UPDATE SKIP LOCKED) old
             WHERE sc.code OPERATOR(benefit.=) old.code AND sc.state = 'held' AND sc.hold_until < now()
            RETURNING sc.code, old.hold_order
        ), logged AS (
            INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, reason)
            SELECT e.code, 'held', 'issued', e.hold_order, 'hold expired' FROM expired e
            RETURNING 1
        )
        SELECT count(*) INTO n FROM logged;
        RETURN n;
    END IF;
    -- REPEATABLE READ, SERIALIZABLE: a code whose hold another run expired, or that an order
    -- used or held again, since the snapshot fails to lock (40001): skip it, as a code being
    -- used right now is skipped; one subtransaction per code, at these isolation levels only
    FOR k IN SELECT c.code, c.hold_order FROM benefit.single_use_code c
              WHERE c.state = 'held' AND c.hold_until < now() LOOP
        BEGIN
            UPDATE benefit.single_use_code sc SET state = 'issued', hold_order = NULL, hold_until = NULL
              FROM (SELECT c.code FROM benefit.single_use_code c
                     WHERE c.code OPERATOR(benefit.=) k.code FOR UPDATE SKIP LOCKED) old
             WHERE sc.code OPERATOR(benefit.=) old.code;
            IF FOUND THEN
                INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, reason)
                VALUES (k.code, 'held', 'issued', k.hold_order, 'hold expired');
                n := n + 1;
            END IF;
        EXCEPTION WHEN serialization_failure THEN
            NULL;
        END;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION benefit.expire_code_holds() IS
    'Returns codes whose hold deadline has passed to issued, with a history row each; returns how many; safe to run concurrently (rows being used right now, or changed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, are skipped and caught next time if still due); an expired hold never blocks another order (redeem_code and hold_code ignore it)';
