/*
 * The catalogue: seasons, sales channels and their web points of sale,
 * product families, products, performances, seat categories, audiences and
 * base prices; the season days read in UTC; the views a till or web shop
 * reads to build a basket.
 *
 * One time zone for every season date.  A season's starts_on and ends_on are
 * calendar days in UTC: the season runs from starts_on 00:00 UTC to the end
 * of ends_on, 24:00 UTC, whatever the TimeZone of the session that writes or
 * judges a validity (a validity is an instant, timestamptz).  Comparing a
 * date with a timestamptz directly would read the date in the session's
 * time zone: a benefit that went live from a UTC session could then not be
 * renamed from a Europe/Zurich one, and benefit_overview.problems would
 * depend on the reader.  list_problems (benefits) and list_promo_problems
 * judge a validity against its season with list_validity_problems, which
 * reads every season day through season_day_start.
 *
 * The sales catalogue views are plain views over the catalogue tables, for
 * benefit_sales (which reads no table): the ids a benefit.basket_line takes,
 * the codes the runtime calls take (channel, point of sale), names, dates and
 * base prices.  Nothing about benefits, codes, contacts, orders or history.
 * They filter no rows, so a caller's function in a WHERE clause has nothing
 * hidden to leak.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.channel_kind AS ENUM
    ('box_office', 'web', 'call_centre', 'reseller', 'other');
COMMENT ON TYPE benefit.channel_kind IS
    'Kind of a sales channel; points of sale exist only inside web channels';
REVOKE ALL ON TYPE benefit.channel_kind FROM PUBLIC;
GRANT USAGE ON TYPE benefit.channel_kind TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.season (
    season_id   bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    CONSTRAINT season_pkey PRIMARY KEY (season_id),
    CONSTRAINT season_code_key UNIQUE (code),
    CONSTRAINT season_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT season_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT season_ends_on_check CHECK (ends_on >= starts_on)
);
COMMENT ON TABLE benefit.season IS 'A season (for example 2026-27); every product and every benefit belongs to one';
COMMENT ON COLUMN benefit.season.season_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.season.code IS 'Stable short code used by scripts (letters, digits, _ . -; up to 63 characters)';
COMMENT ON COLUMN benefit.season.name IS 'Display name';
COMMENT ON COLUMN benefit.season.starts_on IS
    'First day of the season, a calendar day in UTC: the season starts at its midnight UTC (benefit.season_day_start), whatever the session''s TimeZone';
COMMENT ON COLUMN benefit.season.ends_on IS
    'Last day of the season (not before starts_on), a calendar day in UTC: the season ends at the next midnight UTC';
COMMENT ON CONSTRAINT season_code_check ON benefit.season IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT season_name_check ON benefit.season IS 'name must not be blank';
COMMENT ON CONSTRAINT season_ends_on_check ON benefit.season IS 'ends_on must not be before starts_on';
SELECT pg_catalog.pg_extension_config_dump('benefit.season', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.season_season_id_seq', '');
REVOKE ALL ON TABLE benefit.season FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.season_season_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.season TO benefit_admin;

CREATE TABLE benefit.sales_channel (
    channel_id  bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    kind        benefit.channel_kind NOT NULL,
    CONSTRAINT sales_channel_pkey PRIMARY KEY (channel_id),
    CONSTRAINT sales_channel_code_key UNIQUE (code),
    CONSTRAINT sales_channel_channel_id_kind_key UNIQUE (channel_id, kind),
    CONSTRAINT sales_channel_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT sales_channel_name_check CHECK (btrim(name) <> '')
);
COMMENT ON TABLE benefit.sales_channel IS 'An internal sales channel (box office, web, call centre, reseller...); runtime calls name it by code';
COMMENT ON COLUMN benefit.sales_channel.channel_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.sales_channel.code IS 'Stable code passed by applications to the runtime functions';
COMMENT ON COLUMN benefit.sales_channel.name IS 'Display name';
COMMENT ON COLUMN benefit.sales_channel.kind IS 'Kind of channel; only web channels have points of sale';
COMMENT ON CONSTRAINT sales_channel_code_check ON benefit.sales_channel IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT sales_channel_name_check ON benefit.sales_channel IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.sales_channel', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.sales_channel_channel_id_seq', '');
REVOKE ALL ON TABLE benefit.sales_channel FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.sales_channel_channel_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.sales_channel TO benefit_admin;

CREATE TABLE benefit.point_of_sale (
    point_of_sale_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    channel_id  bigint NOT NULL,
    channel_kind benefit.channel_kind NOT NULL DEFAULT 'web',
    CONSTRAINT point_of_sale_pkey PRIMARY KEY (point_of_sale_id),
    CONSTRAINT point_of_sale_code_key UNIQUE (code),
    CONSTRAINT point_of_sale_point_of_sale_id_channel_id_key UNIQUE (point_of_sale_id, channel_id),
    CONSTRAINT point_of_sale_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT point_of_sale_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT point_of_sale_channel_kind_check CHECK (channel_kind = 'web'),
    CONSTRAINT point_of_sale_channel_id_channel_kind_fkey FOREIGN KEY (channel_id, channel_kind)
        REFERENCES benefit.sales_channel (channel_id, kind)
);
COMMENT ON TABLE benefit.point_of_sale IS 'A web shop inside a web sales channel; single-use codes are active on one';
COMMENT ON COLUMN benefit.point_of_sale.point_of_sale_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.point_of_sale.code IS 'Stable code passed by applications to the runtime functions';
COMMENT ON COLUMN benefit.point_of_sale.name IS 'Display name';
COMMENT ON COLUMN benefit.point_of_sale.channel_id IS 'The web channel this shop belongs to';
COMMENT ON COLUMN benefit.point_of_sale.channel_kind IS 'Always web: with channel_id it references sales_channel (channel_id, kind), so a point of sale cannot sit in a box-office channel';
COMMENT ON CONSTRAINT point_of_sale_code_check ON benefit.point_of_sale IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT point_of_sale_name_check ON benefit.point_of_sale IS 'name must not be blank';
COMMENT ON CONSTRAINT point_of_sale_channel_kind_check ON benefit.point_of_sale IS 'a point of sale belongs to a web channel';
SELECT pg_catalog.pg_extension_config_dump('benefit.point_of_sale', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.point_of_sale_point_of_sale_id_seq', '');
REVOKE ALL ON TABLE benefit.point_of_sale FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.point_of_sale_point_of_sale_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.point_of_sale TO benefit_admin;

CREATE TABLE benefit.product_family (
    family_id   bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT product_family_pkey PRIMARY KEY (family_id),
    CONSTRAINT product_family_code_key UNIQUE (code),
    CONSTRAINT product_family_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT product_family_name_check CHECK (btrim(name) <> '')
);
COMMENT ON TABLE benefit.product_family IS 'A family of products: tickets, timed passes, memberships, goods...';
COMMENT ON COLUMN benefit.product_family.family_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.product_family.code IS 'Stable short code';
COMMENT ON COLUMN benefit.product_family.name IS 'Display name';
COMMENT ON CONSTRAINT product_family_code_check ON benefit.product_family IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT product_family_name_check ON benefit.product_family IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.product_family', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.product_family_family_id_seq', '');
REVOKE ALL ON TABLE benefit.product_family FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.product_family_family_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.product_family TO benefit_admin;

CREATE TABLE benefit.product (
    product_id  bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    family_id   bigint NOT NULL,
    season_id   bigint NOT NULL,
    CONSTRAINT product_pkey PRIMARY KEY (product_id),
    CONSTRAINT product_code_key UNIQUE (code),
    CONSTRAINT product_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT product_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT product_family_id_fkey FOREIGN KEY (family_id) REFERENCES benefit.product_family (family_id),
    CONSTRAINT product_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id)
);
CREATE INDEX product_season_id_idx ON benefit.product (season_id);
COMMENT ON TABLE benefit.product IS 'Anything sold (a production, a pass, a membership, goods), in one season';
COMMENT ON COLUMN benefit.product.product_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.product.code IS 'Stable short code';
COMMENT ON COLUMN benefit.product.name IS 'Display name';
COMMENT ON COLUMN benefit.product.family_id IS 'Product family';
COMMENT ON COLUMN benefit.product.season_id IS 'Season the product is sold in';
COMMENT ON CONSTRAINT product_code_check ON benefit.product IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT product_name_check ON benefit.product IS 'name must not be blank';
COMMENT ON INDEX benefit.product_season_id_idx IS 'Products of a season';
SELECT pg_catalog.pg_extension_config_dump('benefit.product', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.product_product_id_seq', '');
REVOKE ALL ON TABLE benefit.product FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.product_product_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.product TO benefit_admin;

CREATE TABLE benefit.performance (
    performance_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    product_id  bigint NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz,
    CONSTRAINT performance_pkey PRIMARY KEY (performance_id),
    CONSTRAINT performance_code_key UNIQUE (code),
    CONSTRAINT performance_performance_id_product_id_key UNIQUE (performance_id, product_id),
    CONSTRAINT performance_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT performance_ends_at_check CHECK (ends_at > starts_at),
    CONSTRAINT performance_product_id_fkey FOREIGN KEY (product_id) REFERENCES benefit.product (product_id)
);
CREATE INDEX performance_product_id_idx ON benefit.performance (product_id);
COMMENT ON TABLE benefit.performance IS 'A dated occurrence of a ticket product';
COMMENT ON COLUMN benefit.performance.performance_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.performance.code IS 'Stable short code';
COMMENT ON COLUMN benefit.performance.product_id IS 'The product this is a performance of';
COMMENT ON COLUMN benefit.performance.starts_at IS 'When the performance starts';
COMMENT ON COLUMN benefit.performance.ends_at IS 'When it ends (after starts_at), or NULL when not known';
COMMENT ON CONSTRAINT performance_code_check ON benefit.performance IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT performance_ends_at_check ON benefit.performance IS 'ends_at must be after starts_at';
COMMENT ON INDEX benefit.performance_product_id_idx IS 'Performances of a product';
SELECT pg_catalog.pg_extension_config_dump('benefit.performance', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.performance_performance_id_seq', '');
REVOKE ALL ON TABLE benefit.performance FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.performance_performance_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.performance TO benefit_admin;

CREATE TABLE benefit.seat_category (
    seat_category_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT seat_category_pkey PRIMARY KEY (seat_category_id),
    CONSTRAINT seat_category_code_key UNIQUE (code),
    CONSTRAINT seat_category_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT seat_category_name_check CHECK (btrim(name) <> '')
);
COMMENT ON TABLE benefit.seat_category IS 'A seat category (stalls, balcony, standing...)';
COMMENT ON COLUMN benefit.seat_category.seat_category_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.seat_category.code IS 'Stable short code';
COMMENT ON COLUMN benefit.seat_category.name IS 'Display name';
COMMENT ON CONSTRAINT seat_category_code_check ON benefit.seat_category IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT seat_category_name_check ON benefit.seat_category IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.seat_category', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.seat_category_seat_category_id_seq', '');
REVOKE ALL ON TABLE benefit.seat_category FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.seat_category_seat_category_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.seat_category TO benefit_admin;

CREATE TABLE benefit.audience (
    audience_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT audience_pkey PRIMARY KEY (audience_id),
    CONSTRAINT audience_code_key UNIQUE (code),
    CONSTRAINT audience_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT audience_name_check CHECK (btrim(name) <> '')
);
COMMENT ON TABLE benefit.audience IS 'An audience (adult, child, student...)';
COMMENT ON COLUMN benefit.audience.audience_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.audience.code IS 'Stable short code';
COMMENT ON COLUMN benefit.audience.name IS 'Display name';
COMMENT ON CONSTRAINT audience_code_check ON benefit.audience IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT audience_name_check ON benefit.audience IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.audience', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.audience_audience_id_seq', '');
REVOKE ALL ON TABLE benefit.audience FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.audience_audience_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.audience TO benefit_admin;

CREATE TABLE benefit.base_price (
    base_price_id bigint GENERATED ALWAYS AS IDENTITY,
    product_id  bigint NOT NULL,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    price_cents bigint NOT NULL,
    CONSTRAINT base_price_pkey PRIMARY KEY (base_price_id),
    CONSTRAINT base_price_dimensions_key
        UNIQUE NULLS NOT DISTINCT (product_id, performance_id, seat_category_id, audience_id),
    CONSTRAINT base_price_price_cents_check CHECK (price_cents BETWEEN 0 AND 100000000000),
    CONSTRAINT base_price_product_id_fkey FOREIGN KEY (product_id) REFERENCES benefit.product (product_id),
    CONSTRAINT base_price_performance_id_product_id_fkey FOREIGN KEY (performance_id, product_id)
        REFERENCES benefit.performance (performance_id, product_id),
    CONSTRAINT base_price_seat_category_id_fkey FOREIGN KEY (seat_category_id)
        REFERENCES benefit.seat_category (seat_category_id),
    CONSTRAINT base_price_audience_id_fkey FOREIGN KEY (audience_id) REFERENCES benefit.audience (audience_id)
);
COMMENT ON TABLE benefit.base_price IS 'The catalogue price of a product for a seat category and audience, optionally for one performance; NULL in a dimension means any';
COMMENT ON COLUMN benefit.base_price.base_price_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.base_price.product_id IS 'The product';
COMMENT ON COLUMN benefit.base_price.performance_id IS 'One performance of the product, or NULL for all of them';
COMMENT ON COLUMN benefit.base_price.seat_category_id IS 'Seat category, or NULL for any';
COMMENT ON COLUMN benefit.base_price.audience_id IS 'Audience, or NULL for any';
COMMENT ON COLUMN benefit.base_price.price_cents IS 'Price in minor units of the house currency (0 to 10^11)';
COMMENT ON CONSTRAINT base_price_price_cents_check ON benefit.base_price IS 'price_cents between 0 and 10^11 minor units';
SELECT pg_catalog.pg_extension_config_dump('benefit.base_price', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.base_price_base_price_id_seq', '');
REVOKE ALL ON TABLE benefit.base_price FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.base_price_base_price_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.base_price TO benefit_admin;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

-- The configuration cache of the runtime (src/config.c): every configuration table has a
-- statement trigger calling config_changed (here, 07_benefits.sql, 09_promo_codes.sql)
CREATE FUNCTION benefit_internal.config_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'benefit_config_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION benefit_internal.config_changed() IS
    '(C, src/config.c) Trigger function, after each statement that changes the configuration the runtime reads (channels, points of sale, benefits with their channels and tariff rows, promo codes with their channels, the catalogue a basket''s lines are checked against: products, performances, seat categories, audiences, base prices): every session''s configuration cache is stale once the transaction commits (a relcache invalidation of benefit.benefit), and the changing session''s at its next command';
REVOKE ALL ON FUNCTION benefit_internal.config_changed() FROM PUBLIC;

CREATE FUNCTION benefit.season_day_start(day date)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.timezone('UTC', day::timestamp);
COMMENT ON FUNCTION benefit.season_day_start(date) IS
    'The instant a season''s calendar day starts: its midnight in UTC, the one time zone season dates are read in (never the session''s); a season runs from season_day_start(starts_on) to season_day_start(ends_on + 1)';
REVOKE ALL ON FUNCTION benefit.season_day_start(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.season_day_start(date) TO benefit_admin, benefit_report;

--------------------------------------------------------------------------
-- Views
--------------------------------------------------------------------------

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
REVOKE ALL ON TABLE benefit.catalogue_product FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_product TO benefit_sales, benefit_admin;

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
REVOKE ALL ON TABLE benefit.catalogue_performance FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_performance TO benefit_sales, benefit_admin;

CREATE VIEW benefit.catalogue_seat_category AS
SELECT sc.seat_category_id,
       sc.code,
       sc.name
  FROM benefit.seat_category sc;
COMMENT ON VIEW benefit.catalogue_seat_category IS 'Sales catalogue: the seat categories';
COMMENT ON COLUMN benefit.catalogue_seat_category.seat_category_id IS 'The seat_category_id of a basket line';
COMMENT ON COLUMN benefit.catalogue_seat_category.code IS 'Stable short code of the seat category';
COMMENT ON COLUMN benefit.catalogue_seat_category.name IS 'Display name of the seat category';
REVOKE ALL ON TABLE benefit.catalogue_seat_category FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_seat_category TO benefit_sales, benefit_admin;

CREATE VIEW benefit.catalogue_audience AS
SELECT a.audience_id,
       a.code,
       a.name
  FROM benefit.audience a;
COMMENT ON VIEW benefit.catalogue_audience IS 'Sales catalogue: the audiences (adult, child, student...)';
COMMENT ON COLUMN benefit.catalogue_audience.audience_id IS 'The audience_id of a basket line';
COMMENT ON COLUMN benefit.catalogue_audience.code IS 'Stable short code of the audience';
COMMENT ON COLUMN benefit.catalogue_audience.name IS 'Display name of the audience';
REVOKE ALL ON TABLE benefit.catalogue_audience FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_audience TO benefit_sales, benefit_admin;

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
REVOKE ALL ON TABLE benefit.catalogue_price FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_price TO benefit_sales, benefit_admin;

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
REVOKE ALL ON TABLE benefit.catalogue_channel FROM PUBLIC;
GRANT SELECT ON benefit.catalogue_channel TO benefit_sales, benefit_admin;

--------------------------------------------------------------------------
-- Triggers
--------------------------------------------------------------------------

CREATE TRIGGER sales_channel_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.sales_channel
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER sales_channel_config_trg ON benefit.sales_channel IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER point_of_sale_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.point_of_sale
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER point_of_sale_config_trg ON benefit.point_of_sale IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER product_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.product
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER product_config_trg ON benefit.product IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER performance_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.performance
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER performance_config_trg ON benefit.performance IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER seat_category_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.seat_category
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER seat_category_config_trg ON benefit.seat_category IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER audience_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.audience
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER audience_config_trg ON benefit.audience IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER base_price_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.base_price
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER base_price_config_trg ON benefit.base_price IS 'The runtime''s configuration cache is stale after a change';
