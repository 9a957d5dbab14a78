/*
 * benefit 0.1.0: the configuration model and the benefit lifecycle.
 *
 * Configuration is plain tables with named constraints: DBAs write INSERTs.
 * Money is always integer minor units (columns ending in _cents, bigint);
 * percentages are numeric with at most two decimals.  Every table holding user data, and its
 * identity sequence, is registered with pg_extension_config_dump so that
 * pg_dump keeps the rows.
 */

\echo Use "CREATE EXTENSION benefit" to load this file. \quit

--------------------------------------------------------------------------
-- Roles (cluster-wide; created when missing, never dropped by the extension)
--------------------------------------------------------------------------

DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['benefit_admin', 'benefit_sales', 'benefit_report']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$roles$;

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.target_type AS ENUM
    ('public', 'contacts', 'indicator', 'partner', 'single_use');
COMMENT ON TYPE benefit.target_type IS
    'Who may use a benefit: public (anyone, anonymous included), contacts (a campaign''s target list), indicator (contacts at an indicator level, evaluated live), partner (holders of one shared access code), single_use (holders of a single-use code)';

CREATE TYPE benefit.benefit_status AS ENUM
    ('draft', 'validated', 'live', 'suspended', 'closed');
COMMENT ON TYPE benefit.benefit_status IS
    'Lifecycle of a benefit: draft -> validated -> live <-> suspended -> closed; closed is final';

CREATE TYPE benefit.contact_kind AS ENUM ('person', 'organisation');
COMMENT ON TYPE benefit.contact_kind IS
    'A contact is a person or an organisation (a company or association that can receive batches of single-use codes)';

CREATE TYPE benefit.channel_kind AS ENUM
    ('box_office', 'web', 'call_centre', 'reseller', 'other');
COMMENT ON TYPE benefit.channel_kind IS
    'Kind of a sales channel; points of sale exist only inside web channels';

--------------------------------------------------------------------------
-- The single-use code type
--------------------------------------------------------------------------

CREATE TYPE benefit.code;

CREATE FUNCTION benefit.code_in(cstring) RETURNS benefit.code
AS 'MODULE_PATHNAME', 'benefit_code_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_in(cstring) IS 'Input function of benefit.code: case-insensitive, ignores spaces and hyphens, reads O as 0 and I, L as 1; 22P02 when malformed or the check character does not match';
CREATE FUNCTION benefit.code_out(benefit.code) RETURNS cstring
AS 'MODULE_PATHNAME', 'benefit_code_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_out(benefit.code) IS 'Output function of benefit.code: dddd-dddd-dddd-c';
CREATE FUNCTION benefit.code_recv(internal) RETURNS benefit.code
AS 'MODULE_PATHNAME', 'benefit_code_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_recv(internal) IS 'Binary input of benefit.code: a format-version byte (1), then the value as int8; refuses other versions and values over 60 bits';
CREATE FUNCTION benefit.code_send(benefit.code) RETURNS bytea
AS 'MODULE_PATHNAME', 'benefit_code_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_send(benefit.code) IS 'Binary output of benefit.code: a format-version byte (1), then the value as int8';

CREATE TYPE benefit.code (
    INPUT = benefit.code_in,
    OUTPUT = benefit.code_out,
    RECEIVE = benefit.code_recv,
    SEND = benefit.code_send,
    INTERNALLENGTH = 8,
    PASSEDBYVALUE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE benefit.code IS
    'A single-use code: 60 random bits in 8 bytes, written as 12 Crockford base32 characters and a check character, dddd-dddd-dddd-c';

CREATE FUNCTION benefit.is_valid_code(text) RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_is_valid_code' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.is_valid_code(text) IS
    'True when the text is a well-formed code with the right check character; never raises (NULL for NULL)';

CREATE FUNCTION benefit.code_eq(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8eq';
COMMENT ON FUNCTION benefit.code_eq(benefit.code, benefit.code) IS 'Support of = on benefit.code';
CREATE FUNCTION benefit.code_ne(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ne';
COMMENT ON FUNCTION benefit.code_ne(benefit.code, benefit.code) IS 'Support of <> on benefit.code';
CREATE FUNCTION benefit.code_lt(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8lt';
COMMENT ON FUNCTION benefit.code_lt(benefit.code, benefit.code) IS 'Support of < on benefit.code';
CREATE FUNCTION benefit.code_le(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8le';
COMMENT ON FUNCTION benefit.code_le(benefit.code, benefit.code) IS 'Support of <= on benefit.code';
CREATE FUNCTION benefit.code_gt(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8gt';
COMMENT ON FUNCTION benefit.code_gt(benefit.code, benefit.code) IS 'Support of > on benefit.code';
CREATE FUNCTION benefit.code_ge(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ge';
COMMENT ON FUNCTION benefit.code_ge(benefit.code, benefit.code) IS 'Support of >= on benefit.code';
CREATE FUNCTION benefit.code_cmp(benefit.code, benefit.code) RETURNS integer
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'btint8cmp';
COMMENT ON FUNCTION benefit.code_cmp(benefit.code, benefit.code) IS 'btree comparison of benefit.code';
CREATE FUNCTION benefit.code_sortsupport(internal) RETURNS void
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'btint8sortsupport';
COMMENT ON FUNCTION benefit.code_sortsupport(internal) IS 'btree sort support of benefit.code';
CREATE FUNCTION benefit.code_hash(benefit.code) RETURNS integer
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8';
COMMENT ON FUNCTION benefit.code_hash(benefit.code) IS 'Hash of benefit.code';
CREATE FUNCTION benefit.code_hash_extended(benefit.code, bigint) RETURNS bigint
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8extended';
COMMENT ON FUNCTION benefit.code_hash_extended(benefit.code, bigint) IS 'Seeded hash of benefit.code';

CREATE OPERATOR benefit.= (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_eq,
    COMMUTATOR = OPERATOR(benefit.=), NEGATOR = OPERATOR(benefit.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
COMMENT ON OPERATOR benefit.= (benefit.code, benefit.code) IS 'equal';
CREATE OPERATOR benefit.<> (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_ne,
    COMMUTATOR = OPERATOR(benefit.<>), NEGATOR = OPERATOR(benefit.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
COMMENT ON OPERATOR benefit.<> (benefit.code, benefit.code) IS 'not equal';
CREATE OPERATOR benefit.< (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_lt,
    COMMUTATOR = OPERATOR(benefit.>), NEGATOR = OPERATOR(benefit.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
COMMENT ON OPERATOR benefit.< (benefit.code, benefit.code) IS 'less than';
CREATE OPERATOR benefit.<= (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_le,
    COMMUTATOR = OPERATOR(benefit.>=), NEGATOR = OPERATOR(benefit.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
COMMENT ON OPERATOR benefit.<= (benefit.code, benefit.code) IS 'less than or equal';
CREATE OPERATOR benefit.> (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_gt,
    COMMUTATOR = OPERATOR(benefit.<), NEGATOR = OPERATOR(benefit.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
COMMENT ON OPERATOR benefit.> (benefit.code, benefit.code) IS 'greater than';
CREATE OPERATOR benefit.>= (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_ge,
    COMMUTATOR = OPERATOR(benefit.<=), NEGATOR = OPERATOR(benefit.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel);
COMMENT ON OPERATOR benefit.>= (benefit.code, benefit.code) IS 'greater than or equal';

CREATE OPERATOR CLASS benefit.code_btree_ops
    DEFAULT FOR TYPE benefit.code USING btree AS
        OPERATOR 1 benefit.<,
        OPERATOR 2 benefit.<=,
        OPERATOR 3 benefit.=,
        OPERATOR 4 benefit.>=,
        OPERATOR 5 benefit.>,
        FUNCTION 1 benefit.code_cmp(benefit.code, benefit.code),
        FUNCTION 2 benefit.code_sortsupport(internal);
COMMENT ON OPERATOR CLASS benefit.code_btree_ops USING btree IS 'Default btree operator class of benefit.code';

CREATE OPERATOR CLASS benefit.code_hash_ops
    DEFAULT FOR TYPE benefit.code USING hash AS
        OPERATOR 1 benefit.=,
        FUNCTION 1 benefit.code_hash(benefit.code),
        FUNCTION 2 benefit.code_hash_extended(benefit.code, bigint);
COMMENT ON OPERATOR CLASS benefit.code_hash_ops USING hash IS 'Default hash operator class of benefit.code';

CREATE CAST (text AS benefit.code) WITH INOUT AS ASSIGNMENT;
COMMENT ON CAST (text AS benefit.code) IS 'Parses a code (22P02 when malformed)';
CREATE CAST (benefit.code AS text) WITH INOUT AS ASSIGNMENT;
COMMENT ON CAST (benefit.code AS text) IS 'The canonical text form dddd-dddd-dddd-c';

--------------------------------------------------------------------------
-- Seasons, channels, points of sale
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
COMMENT ON COLUMN benefit.season.starts_on IS 'First day of the season';
COMMENT ON COLUMN benefit.season.ends_on IS 'Last day of the season (not before starts_on)';

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

--------------------------------------------------------------------------
-- Catalogue
--------------------------------------------------------------------------

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
COMMENT ON INDEX benefit.product_season_id_idx IS 'Products of a season';

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
COMMENT ON INDEX benefit.performance_product_id_idx IS 'Performances of a product';

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

--------------------------------------------------------------------------
-- Contacts, indicators, campaigns
--------------------------------------------------------------------------

CREATE TABLE benefit.contact (
    contact_id  bigint GENERATED ALWAYS AS IDENTITY,
    kind        benefit.contact_kind NOT NULL,
    name        text NOT NULL,
    email       text,
    language    text NOT NULL DEFAULT 'fr',
    external_ref text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT contact_pkey PRIMARY KEY (contact_id),
    CONSTRAINT contact_external_ref_key UNIQUE (external_ref),
    CONSTRAINT contact_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT contact_email_check CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    CONSTRAINT contact_language_check CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$')
);
COMMENT ON TABLE benefit.contact IS 'A person or organisation known to the ticketing system';
COMMENT ON COLUMN benefit.contact.contact_id IS 'Surrogate key; the contact_id the runtime functions take';
COMMENT ON COLUMN benefit.contact.kind IS 'person or organisation; only organisations receive batches of single-use codes';
COMMENT ON COLUMN benefit.contact.name IS 'Full name of the person, or name of the organisation';
COMMENT ON COLUMN benefit.contact.email IS 'E-mail address (batches of codes are sent to it), or NULL';
COMMENT ON COLUMN benefit.contact.language IS 'Preferred language as an ISO 639-1 code, optionally with a region (fr, en, de-CH)';
COMMENT ON COLUMN benefit.contact.external_ref IS 'Identifier of the contact in another system (CRM), unique when given';
COMMENT ON COLUMN benefit.contact.created_at IS 'When the row was created';

CREATE TABLE benefit.indicator (
    indicator_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT indicator_pkey PRIMARY KEY (indicator_id),
    CONSTRAINT indicator_code_key UNIQUE (code),
    CONSTRAINT indicator_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT indicator_name_check CHECK (btrim(name) <> '')
);
COMMENT ON TABLE benefit.indicator IS 'A contact indicator (loyalty tier, subscriber status...) with a set of levels';
COMMENT ON COLUMN benefit.indicator.indicator_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.indicator.code IS 'Stable short code';
COMMENT ON COLUMN benefit.indicator.name IS 'Display name';

CREATE TABLE benefit.indicator_level (
    level_id    bigint GENERATED ALWAYS AS IDENTITY,
    indicator_id bigint NOT NULL,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT indicator_level_pkey PRIMARY KEY (level_id),
    CONSTRAINT indicator_level_indicator_id_code_key UNIQUE (indicator_id, code),
    CONSTRAINT indicator_level_level_id_indicator_id_key UNIQUE (level_id, indicator_id),
    CONSTRAINT indicator_level_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT indicator_level_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT indicator_level_indicator_id_fkey FOREIGN KEY (indicator_id)
        REFERENCES benefit.indicator (indicator_id)
);
COMMENT ON TABLE benefit.indicator_level IS 'One level (value) of an indicator, e.g. gold for the loyalty indicator';
COMMENT ON COLUMN benefit.indicator_level.level_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.indicator_level.indicator_id IS 'The indicator this is a level of';
COMMENT ON COLUMN benefit.indicator_level.code IS 'Short code, unique within the indicator';
COMMENT ON COLUMN benefit.indicator_level.name IS 'Display name';

CREATE TABLE benefit.contact_indicator (
    contact_id  bigint NOT NULL,
    indicator_id bigint NOT NULL,
    level_id    bigint NOT NULL,
    since       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT contact_indicator_pkey PRIMARY KEY (contact_id, indicator_id),
    CONSTRAINT contact_indicator_contact_id_fkey FOREIGN KEY (contact_id)
        REFERENCES benefit.contact (contact_id) ON DELETE CASCADE,
    CONSTRAINT contact_indicator_level_id_indicator_id_fkey FOREIGN KEY (level_id, indicator_id)
        REFERENCES benefit.indicator_level (level_id, indicator_id)
);
CREATE INDEX contact_indicator_level_id_idx ON benefit.contact_indicator (level_id);
COMMENT ON TABLE benefit.contact_indicator IS 'The current level of each indicator of a contact (at most one level per indicator); read live by the runtime';
COMMENT ON COLUMN benefit.contact_indicator.contact_id IS 'The contact';
COMMENT ON COLUMN benefit.contact_indicator.indicator_id IS 'The indicator';
COMMENT ON COLUMN benefit.contact_indicator.level_id IS 'The level the contact has now; must be a level of indicator_id';
COMMENT ON COLUMN benefit.contact_indicator.since IS 'Since when the contact has this level';
COMMENT ON INDEX benefit.contact_indicator_level_id_idx IS 'Contacts at a level';

CREATE TABLE benefit.campaign (
    campaign_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    season_id   bigint,
    CONSTRAINT campaign_pkey PRIMARY KEY (campaign_id),
    CONSTRAINT campaign_code_key UNIQUE (code),
    CONSTRAINT campaign_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT campaign_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT campaign_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id)
);
COMMENT ON TABLE benefit.campaign IS 'A marketing campaign; its target list says who may use its contacts benefits';
COMMENT ON COLUMN benefit.campaign.campaign_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.campaign.code IS 'Stable short code';
COMMENT ON COLUMN benefit.campaign.name IS 'Display name';
COMMENT ON COLUMN benefit.campaign.season_id IS 'Season of the campaign, or NULL when it spans seasons';

CREATE TABLE benefit.campaign_target (
    campaign_id bigint NOT NULL,
    contact_id  bigint NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT campaign_target_pkey PRIMARY KEY (campaign_id, contact_id),
    CONSTRAINT campaign_target_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES benefit.campaign (campaign_id) ON DELETE CASCADE,
    CONSTRAINT campaign_target_contact_id_fkey FOREIGN KEY (contact_id)
        REFERENCES benefit.contact (contact_id) ON DELETE CASCADE
);
CREATE INDEX campaign_target_contact_id_idx ON benefit.campaign_target (contact_id);
COMMENT ON TABLE benefit.campaign_target IS 'The target list of a campaign (cible opération); may change while its benefits are live';
COMMENT ON COLUMN benefit.campaign_target.campaign_id IS 'The campaign';
COMMENT ON COLUMN benefit.campaign_target.contact_id IS 'A targeted contact';
COMMENT ON COLUMN benefit.campaign_target.added_at IS 'When the contact was added to the list';
COMMENT ON INDEX benefit.campaign_target_contact_id_idx IS 'Campaigns of a contact';

--------------------------------------------------------------------------
-- Benefits
--------------------------------------------------------------------------

CREATE TABLE benefit.benefit (
    benefit_id  bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    description text,
    season_id   bigint NOT NULL,
    target_type benefit.target_type NOT NULL,
    campaign_id bigint,
    indicator_level_id bigint,
    access_code text,
    point_of_sale_id bigint,
    valid_from  timestamptz,
    valid_until timestamptz,
    all_channels boolean NOT NULL DEFAULT false,
    quota_total integer,
    quota_per_performance integer,
    quota_per_contact integer,
    quota_per_order integer,
    status      benefit.benefit_status NOT NULL DEFAULT 'draft',
    status_changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    status_changed_by name NOT NULL DEFAULT CURRENT_USER,
    revision    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT benefit_pkey PRIMARY KEY (benefit_id),
    CONSTRAINT benefit_code_key UNIQUE (code),
    CONSTRAINT benefit_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT benefit_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT benefit_campaign_id_check CHECK (campaign_id IS NULL OR target_type = 'contacts'),
    CONSTRAINT benefit_indicator_level_id_check CHECK (indicator_level_id IS NULL OR target_type = 'indicator'),
    CONSTRAINT benefit_access_code_check CHECK (access_code IS NULL OR target_type = 'partner'),
    CONSTRAINT benefit_access_code_format_check CHECK (access_code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$'),
    CONSTRAINT benefit_point_of_sale_id_check CHECK (point_of_sale_id IS NULL OR target_type = 'single_use'),
    CONSTRAINT benefit_valid_until_check CHECK (valid_until > valid_from),
    CONSTRAINT benefit_quota_total_check CHECK (quota_total > 0),
    CONSTRAINT benefit_quota_per_performance_check
        CHECK (quota_per_performance > 0 AND (quota_total IS NULL OR quota_per_performance <= quota_total)),
    CONSTRAINT benefit_quota_per_contact_check
        CHECK (quota_per_contact > 0 AND (quota_total IS NULL OR quota_per_contact <= quota_total)),
    CONSTRAINT benefit_quota_per_order_check
        CHECK (quota_per_order > 0 AND (quota_total IS NULL OR quota_per_order <= quota_total)),
    CONSTRAINT benefit_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id),
    CONSTRAINT benefit_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES benefit.campaign (campaign_id),
    CONSTRAINT benefit_indicator_level_id_fkey FOREIGN KEY (indicator_level_id)
        REFERENCES benefit.indicator_level (level_id),
    CONSTRAINT benefit_point_of_sale_id_fkey FOREIGN KEY (point_of_sale_id)
        REFERENCES benefit.point_of_sale (point_of_sale_id)
);
CREATE UNIQUE INDEX benefit_lower_access_code_key ON benefit.benefit (pg_catalog.lower(access_code));
CREATE INDEX benefit_season_id_idx ON benefit.benefit (season_id);
COMMENT ON TABLE benefit.benefit IS 'A benefit: a special tariff on products for some buyers under some conditions; see benefit.go_live for the lifecycle and README for what may change once live';
COMMENT ON COLUMN benefit.benefit.benefit_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.benefit.code IS 'Stable short code; frozen once the benefit has gone live';
COMMENT ON COLUMN benefit.benefit.name IS 'Display name (may change at any time)';
COMMENT ON COLUMN benefit.benefit.description IS 'Free text shown to sellers (may change at any time)';
COMMENT ON COLUMN benefit.benefit.season_id IS 'Season of the benefit; its tariff rows must be on products of this season';
COMMENT ON COLUMN benefit.benefit.target_type IS 'Who may use it; its parameter is campaign_id, indicator_level_id, access_code or point_of_sale_id';
COMMENT ON COLUMN benefit.benefit.campaign_id IS 'contacts benefits: the campaign whose target list may use it';
COMMENT ON COLUMN benefit.benefit.indicator_level_id IS 'indicator benefits: the indicator level a contact must have at the time of sale';
COMMENT ON COLUMN benefit.benefit.access_code IS 'partner benefits: the access code given to the partner''s customers (case-insensitive, unique)';
COMMENT ON COLUMN benefit.benefit.point_of_sale_id IS 'single_use benefits: the web point of sale on which its codes are active (required when sold on a web channel)';
COMMENT ON COLUMN benefit.benefit.valid_from IS 'Start of validity, or NULL for no start';
COMMENT ON COLUMN benefit.benefit.valid_until IS 'End of validity (exclusive, after valid_from), or NULL for no end';
COMMENT ON COLUMN benefit.benefit.all_channels IS 'True: sold on every sales channel; false: only on the channels listed in benefit_channel';
COMMENT ON COLUMN benefit.benefit.quota_total IS 'How many units may be sold with the benefit in all, or NULL for no limit (required for partner and single_use benefits)';
COMMENT ON COLUMN benefit.benefit.quota_per_performance IS 'Units per performance, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit.quota_per_contact IS 'Units per contact, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit.quota_per_order IS 'Units per order, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit.status IS 'Lifecycle state; change it with benefit.validate, go_live, suspend, close (a direct UPDATE goes through the same checks)';
COMMENT ON COLUMN benefit.benefit.status_changed_at IS 'When status last changed';
COMMENT ON COLUMN benefit.benefit.status_changed_by IS 'Who last changed status (the database role calling the lifecycle function)';
COMMENT ON COLUMN benefit.benefit.revision IS 'Bumped by every edit of the benefit''s tariff rows or channels, so that status changes and child edits conflict even under REPEATABLE READ';
COMMENT ON COLUMN benefit.benefit.created_at IS 'When the row was created';
COMMENT ON INDEX benefit.benefit_lower_access_code_key IS 'Partner access codes are unique regardless of case';
COMMENT ON INDEX benefit.benefit_season_id_idx IS 'Benefits of a season';

CREATE TABLE benefit.benefit_channel (
    benefit_id  bigint NOT NULL,
    channel_id  bigint NOT NULL,
    CONSTRAINT benefit_channel_pkey PRIMARY KEY (benefit_id, channel_id),
    CONSTRAINT benefit_channel_benefit_id_fkey FOREIGN KEY (benefit_id)
        REFERENCES benefit.benefit (benefit_id) ON DELETE CASCADE,
    CONSTRAINT benefit_channel_channel_id_fkey FOREIGN KEY (channel_id)
        REFERENCES benefit.sales_channel (channel_id)
);
CREATE INDEX benefit_channel_channel_id_idx ON benefit.benefit_channel (channel_id);
COMMENT ON TABLE benefit.benefit_channel IS 'The sales channels a benefit is sold on, when benefit.all_channels is false';
COMMENT ON COLUMN benefit.benefit_channel.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_channel.channel_id IS 'A sales channel it is sold on';
COMMENT ON INDEX benefit.benefit_channel_channel_id_idx IS 'Benefits of a channel';

CREATE TABLE benefit.benefit_tariff (
    tariff_id   bigint GENERATED ALWAYS AS IDENTITY,
    benefit_id  bigint NOT NULL,
    product_id  bigint NOT NULL,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    price_cents bigint,
    amount_off_cents bigint,
    percent_off numeric,
    CONSTRAINT benefit_tariff_pkey PRIMARY KEY (tariff_id),
    CONSTRAINT benefit_tariff_dimensions_key
        UNIQUE NULLS NOT DISTINCT (benefit_id, product_id, performance_id, seat_category_id, audience_id),
    CONSTRAINT benefit_tariff_price_form_check
        CHECK (pg_catalog.num_nonnulls(price_cents, amount_off_cents, percent_off) = 1),
    CONSTRAINT benefit_tariff_price_cents_check CHECK (price_cents BETWEEN 0 AND 100000000000),
    CONSTRAINT benefit_tariff_amount_off_cents_check CHECK (amount_off_cents BETWEEN 1 AND 100000000000),
    CONSTRAINT benefit_tariff_percent_off_check
        CHECK (percent_off > 0 AND percent_off <= 100 AND percent_off = round(percent_off, 2)),
    CONSTRAINT benefit_tariff_benefit_id_fkey FOREIGN KEY (benefit_id)
        REFERENCES benefit.benefit (benefit_id) ON DELETE CASCADE,
    CONSTRAINT benefit_tariff_product_id_fkey FOREIGN KEY (product_id) REFERENCES benefit.product (product_id),
    CONSTRAINT benefit_tariff_performance_id_product_id_fkey FOREIGN KEY (performance_id, product_id)
        REFERENCES benefit.performance (performance_id, product_id),
    CONSTRAINT benefit_tariff_seat_category_id_fkey FOREIGN KEY (seat_category_id)
        REFERENCES benefit.seat_category (seat_category_id),
    CONSTRAINT benefit_tariff_audience_id_fkey FOREIGN KEY (audience_id) REFERENCES benefit.audience (audience_id)
);
CREATE INDEX benefit_tariff_product_id_idx ON benefit.benefit_tariff (product_id);
COMMENT ON TABLE benefit.benefit_tariff IS 'Price rows of a benefit (sous-grille tarifaire): for product x seat category x audience, optionally one performance, exactly one of a fixed price, an amount off or a percent off; NULL in a dimension means any';
COMMENT ON COLUMN benefit.benefit_tariff.tariff_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.benefit_tariff.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_tariff.product_id IS 'The product the price applies to';
COMMENT ON COLUMN benefit.benefit_tariff.performance_id IS 'One performance of the product, or NULL for all of them';
COMMENT ON COLUMN benefit.benefit_tariff.seat_category_id IS 'Seat category, or NULL for any';
COMMENT ON COLUMN benefit.benefit_tariff.audience_id IS 'Audience, or NULL for any';
COMMENT ON COLUMN benefit.benefit_tariff.price_cents IS 'Fixed benefit price in minor units (0 to 10^11); set exactly one of price_cents, amount_off_cents, percent_off';
COMMENT ON COLUMN benefit.benefit_tariff.amount_off_cents IS 'Amount taken off the base price, in minor units (1 to 10^11); the price never goes below zero';
COMMENT ON COLUMN benefit.benefit_tariff.percent_off IS 'Percentage taken off the base price (more than 0, at most 100, at most two decimals)';
COMMENT ON INDEX benefit.benefit_tariff_product_id_idx IS 'Tariff rows of a product';

CREATE TABLE benefit.benefit_status_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    benefit_id  bigint NOT NULL,
    from_status benefit.benefit_status,
    to_status   benefit.benefit_status NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    changed_by  name NOT NULL DEFAULT CURRENT_USER,
    CONSTRAINT benefit_status_history_pkey PRIMARY KEY (history_id),
    CONSTRAINT benefit_status_history_benefit_id_fkey FOREIGN KEY (benefit_id)
        REFERENCES benefit.benefit (benefit_id) ON DELETE CASCADE
);
CREATE INDEX benefit_status_history_benefit_id_idx ON benefit.benefit_status_history (benefit_id);
COMMENT ON TABLE benefit.benefit_status_history IS 'Every lifecycle transition of every benefit: who and when (written by a trigger; deleted only with a draft benefit)';
COMMENT ON COLUMN benefit.benefit_status_history.history_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.benefit_status_history.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_status_history.from_status IS 'Status before, NULL at creation';
COMMENT ON COLUMN benefit.benefit_status_history.to_status IS 'Status after';
COMMENT ON COLUMN benefit.benefit_status_history.changed_at IS 'When';
COMMENT ON COLUMN benefit.benefit_status_history.changed_by IS 'Who (the database role)';
COMMENT ON INDEX benefit.benefit_status_history_benefit_id_idx IS 'History of a benefit';

--------------------------------------------------------------------------
-- Promo codes
--------------------------------------------------------------------------

CREATE TABLE benefit.promo_code (
    promo_code_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    season_id   bigint,
    percent_off numeric,
    amount_off_cents bigint,
    valid_from  timestamptz,
    valid_until timestamptz,
    all_channels boolean NOT NULL DEFAULT false,
    min_basket_cents bigint NOT NULL DEFAULT 0,
    indicator_level_id bigint,
    max_uses_total integer,
    max_uses_per_contact integer,
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT promo_code_pkey PRIMARY KEY (promo_code_id),
    CONSTRAINT promo_code_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$'),
    CONSTRAINT promo_code_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT promo_code_discount_check CHECK (pg_catalog.num_nonnulls(percent_off, amount_off_cents) = 1),
    CONSTRAINT promo_code_percent_off_check
        CHECK (percent_off > 0 AND percent_off <= 100 AND percent_off = round(percent_off, 2)),
    CONSTRAINT promo_code_amount_off_cents_check CHECK (amount_off_cents BETWEEN 1 AND 100000000000),
    CONSTRAINT promo_code_valid_until_check CHECK (valid_until > valid_from),
    CONSTRAINT promo_code_min_basket_cents_check CHECK (min_basket_cents BETWEEN 0 AND 100000000000),
    CONSTRAINT promo_code_max_uses_total_check CHECK (max_uses_total > 0),
    CONSTRAINT promo_code_max_uses_per_contact_check
        CHECK (max_uses_per_contact > 0 AND (max_uses_total IS NULL OR max_uses_per_contact <= max_uses_total)),
    CONSTRAINT promo_code_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id),
    CONSTRAINT promo_code_indicator_level_id_fkey FOREIGN KEY (indicator_level_id)
        REFERENCES benefit.indicator_level (level_id)
);
CREATE UNIQUE INDEX promo_code_lower_code_key ON benefit.promo_code (pg_catalog.lower(code));
COMMENT ON TABLE benefit.promo_code IS 'A promo code (coupon): anyone who knows it gets a discount on the whole basket, under conditions';
COMMENT ON COLUMN benefit.promo_code.promo_code_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.promo_code.code IS 'The code buyers type; case-insensitive and unique regardless of case (3 to 64 letters, digits, _ or -)';
COMMENT ON COLUMN benefit.promo_code.name IS 'Display name';
COMMENT ON COLUMN benefit.promo_code.season_id IS 'Season it belongs to, or NULL';
COMMENT ON COLUMN benefit.promo_code.percent_off IS 'Percentage off the basket; set exactly one of percent_off, amount_off_cents';
COMMENT ON COLUMN benefit.promo_code.amount_off_cents IS 'Amount off the basket in minor units; never more than the basket';
COMMENT ON COLUMN benefit.promo_code.valid_from IS 'Start of validity, or NULL for no start';
COMMENT ON COLUMN benefit.promo_code.valid_until IS 'End of validity (exclusive, after valid_from), or NULL for no end';
COMMENT ON COLUMN benefit.promo_code.all_channels IS 'True: usable on every channel; false: only on the channels in promo_code_channel';
COMMENT ON COLUMN benefit.promo_code.min_basket_cents IS 'Minimum basket amount, measured after line benefits, in minor units (0: no minimum)';
COMMENT ON COLUMN benefit.promo_code.indicator_level_id IS 'When set, only contacts having this indicator level may use the code';
COMMENT ON COLUMN benefit.promo_code.max_uses_total IS 'Uses allowed in all, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_code.max_uses_per_contact IS 'Uses allowed per contact, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_code.is_active IS 'False switches the code off at once';
COMMENT ON COLUMN benefit.promo_code.created_at IS 'When the row was created';
COMMENT ON INDEX benefit.promo_code_lower_code_key IS 'Promo codes are unique regardless of case';

CREATE TABLE benefit.promo_code_channel (
    promo_code_id bigint NOT NULL,
    channel_id  bigint NOT NULL,
    CONSTRAINT promo_code_channel_pkey PRIMARY KEY (promo_code_id, channel_id),
    CONSTRAINT promo_code_channel_promo_code_id_fkey FOREIGN KEY (promo_code_id)
        REFERENCES benefit.promo_code (promo_code_id) ON DELETE CASCADE,
    CONSTRAINT promo_code_channel_channel_id_fkey FOREIGN KEY (channel_id)
        REFERENCES benefit.sales_channel (channel_id)
);
COMMENT ON TABLE benefit.promo_code_channel IS 'The channels a promo code may be used on, when promo_code.all_channels is false';
COMMENT ON COLUMN benefit.promo_code_channel.promo_code_id IS 'The promo code';
COMMENT ON COLUMN benefit.promo_code_channel.channel_id IS 'A channel it may be used on';

--------------------------------------------------------------------------
-- Lifecycle
--------------------------------------------------------------------------

CREATE FUNCTION benefit.list_problems(p_benefit_id bigint)
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
    SELECT 'valid_until', 'the validity has already ended'
      FROM b WHERE b.valid_until <= now()
    UNION ALL
    SELECT 'valid_until', format('the validity ends before the season starts (%s)', to_char(b.starts_on, 'YYYY-MM-DD'))
      FROM b WHERE b.valid_until <= b.starts_on
    UNION ALL
    SELECT 'valid_from', format('the validity starts after the season ends (%s)', to_char(b.ends_on, 'YYYY-MM-DD'))
      FROM b WHERE b.valid_from >= b.ends_on + 1
$$;
COMMENT ON FUNCTION benefit.list_problems(bigint) IS
    'What keeps a benefit from being validated or going live: one row per problem, naming the field; no rows when it is complete';

CREATE FUNCTION benefit.count_problems(p_benefit_id bigint)
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT count(*) FROM benefit.list_problems(p_benefit_id);
END;
COMMENT ON FUNCTION benefit.count_problems(bigint) IS
    'How many problems keep a benefit from going live (for the reporting view, which must not show their details)';

CREATE FUNCTION benefit.check_benefit_update()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status NOT IN ('draft', 'validated') THEN
            RAISE EXCEPTION 'cannot delete benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The benefit is %s; only draft and validated benefits can be deleted.', OLD.status),
                      HINT = 'Close it with benefit.close() instead.';
        END IF;
        RETURN OLD;
    END IF;

    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'new benefit "%" must start as draft', NEW.code
                USING ERRCODE = 'object_not_in_prerequisite_state', COLUMN = 'status',
                      HINT = 'Insert it as draft, then call benefit.go_live().';
        END IF;
        RETURN NEW;
    END IF;

    -- What may change depends on where the benefit comes from (OLD.status).
    IF OLD.status IN ('live', 'suspended', 'closed') THEN
        IF NEW.code IS DISTINCT FROM OLD.code
           OR NEW.season_id IS DISTINCT FROM OLD.season_id
           OR NEW.target_type IS DISTINCT FROM OLD.target_type
           OR NEW.campaign_id IS DISTINCT FROM OLD.campaign_id
           OR NEW.indicator_level_id IS DISTINCT FROM OLD.indicator_level_id THEN
            RAISE EXCEPTION 'cannot change the code, season or target of benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The benefit is %s; code, season_id, target_type, campaign_id and indicator_level_id are frozen once a benefit has gone live.', OLD.status),
                      HINT = 'Close it and create a new benefit.';
        END IF;
    END IF;
    IF OLD.status = 'live' THEN
        IF NEW.access_code IS DISTINCT FROM OLD.access_code
           OR NEW.point_of_sale_id IS DISTINCT FROM OLD.point_of_sale_id THEN
            RAISE EXCEPTION 'cannot change the access code or point of sale of live benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Suspend it with benefit.suspend(), change it, then call benefit.go_live() again.';
        END IF;
    END IF;
    IF OLD.status IN ('live', 'suspended') THEN
        IF NEW.quota_total < OLD.quota_total OR (OLD.quota_total IS NULL AND NEW.quota_total IS NOT NULL)
           OR NEW.quota_per_performance < OLD.quota_per_performance
           OR (OLD.quota_per_performance IS NULL AND NEW.quota_per_performance IS NOT NULL)
           OR NEW.quota_per_contact < OLD.quota_per_contact
           OR (OLD.quota_per_contact IS NULL AND NEW.quota_per_contact IS NOT NULL)
           OR NEW.quota_per_order < OLD.quota_per_order
           OR (OLD.quota_per_order IS NULL AND NEW.quota_per_order IS NOT NULL) THEN
            RAISE EXCEPTION 'cannot lower a quota of benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The benefit is %s; its quotas may be raised or removed, not lowered or added.', OLD.status),
                      HINT = 'Close it and create a new benefit with the smaller quota.';
        END IF;
    END IF;
    IF OLD.status = 'closed' AND NEW.status = 'closed'
       AND (ROW(NEW.access_code, NEW.point_of_sale_id, NEW.valid_from, NEW.valid_until, NEW.all_channels,
                NEW.quota_total, NEW.quota_per_performance, NEW.quota_per_contact, NEW.quota_per_order)
            IS DISTINCT FROM
            ROW(OLD.access_code, OLD.point_of_sale_id, OLD.valid_from, OLD.valid_until, OLD.all_channels,
                OLD.quota_total, OLD.quota_per_performance, OLD.quota_per_contact, OLD.quota_per_order)) THEN
        RAISE EXCEPTION 'benefit "%" is closed', OLD.code
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only name and description of a closed benefit may change.';
    END IF;

    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT (   (OLD.status = 'draft' AND NEW.status IN ('validated', 'live', 'closed'))
                OR (OLD.status = 'validated' AND NEW.status IN ('draft', 'live', 'closed'))
                OR (OLD.status = 'live' AND NEW.status IN ('suspended', 'closed'))
                OR (OLD.status = 'suspended' AND NEW.status IN ('live', 'closed'))) THEN
            RAISE EXCEPTION 'benefit "%" cannot go from % to %', OLD.code, OLD.status, NEW.status
                USING ERRCODE = 'object_not_in_prerequisite_state', COLUMN = 'status',
                      HINT = 'Allowed: draft <-> validated, draft or validated -> live <-> suspended, any -> closed; closed is final.';
        END IF;
        -- Completeness is checked after the row is written, by
        -- benefit_live_complete_trg, so it judges the new values.
        NEW.status_changed_at := now();
        NEW.status_changed_by := current_user;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION benefit.check_benefit_update() IS
    'Trigger function: enforces the lifecycle transitions, the completeness check on validate and go live, and what may change on a live, suspended or closed benefit';

CREATE TRIGGER benefit_check_trg
    BEFORE INSERT OR UPDATE OR DELETE ON benefit.benefit
    FOR EACH ROW EXECUTE FUNCTION benefit.check_benefit_update();
COMMENT ON TRIGGER benefit_check_trg ON benefit.benefit IS 'Lifecycle and edit rules of benefits';

CREATE FUNCTION benefit.record_status_change()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO benefit.benefit_status_history (benefit_id, from_status, to_status, changed_by)
        VALUES (NEW.benefit_id, NULL, NEW.status, NEW.status_changed_by);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO benefit.benefit_status_history (benefit_id, from_status, to_status, changed_at, changed_by)
        VALUES (NEW.benefit_id, OLD.status, NEW.status, NEW.status_changed_at, NEW.status_changed_by);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit.record_status_change() IS
    'Trigger function: appends each status change of a benefit to benefit_status_history';

CREATE TRIGGER benefit_history_trg
    AFTER INSERT OR UPDATE OF status ON benefit.benefit
    FOR EACH ROW EXECUTE FUNCTION benefit.record_status_change();
COMMENT ON TRIGGER benefit_history_trg ON benefit.benefit IS 'Records lifecycle transitions';

CREATE FUNCTION benefit.check_benefit_child()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
    st benefit.benefit_status;
    bcode text;
    editable benefit.benefit_status[];
BEGIN
    -- Tariff rows may change while draft, validated or suspended; channels
    -- also while live (adding or removing a channel takes effect at once).
    editable := CASE TG_TABLE_NAME
                    WHEN 'benefit_tariff' THEN '{draft,validated,suspended}'::benefit.benefit_status[]
                    ELSE '{draft,validated,live,suspended}'::benefit.benefit_status[]
                END;
    FOR id IN
        SELECT DISTINCT x FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.benefit_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.benefit_id END]) AS x
         WHERE x IS NOT NULL
    LOOP
        -- A real update of the parent row: a concurrent status change or
        -- child edit waits for this transaction (and fails with a
        -- serialization error under REPEATABLE READ instead of judging
        -- rows it cannot see).
        UPDATE benefit.benefit b SET revision = b.revision + 1
         WHERE b.benefit_id = id
        RETURNING b.status, b.code INTO st, bcode;
        -- Not found: the benefit is being deleted (cascade) or the foreign key reports it.
        IF FOUND AND NOT st = ANY (editable) THEN
            RAISE EXCEPTION 'cannot change % of % benefit "%"',
                    CASE TG_TABLE_NAME WHEN 'benefit_tariff' THEN 'the tariff rows' ELSE 'the channels' END,
                    st, bcode
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
                      HINT = CASE WHEN st = 'live'
                                  THEN 'Suspend it with benefit.suspend(), edit, then call benefit.go_live() again.'
                                  ELSE 'A closed benefit cannot change; create a new one.' END;
        END IF;
    END LOOP;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION benefit.check_benefit_child() IS
    'Trigger function: refuses tariff-row edits unless the benefit is draft, validated or suspended, and channel edits on closed benefits; serialises with status changes';

CREATE TRIGGER benefit_tariff_check_trg
    BEFORE INSERT OR UPDATE OR DELETE ON benefit.benefit_tariff
    FOR EACH ROW EXECUTE FUNCTION benefit.check_benefit_child();
COMMENT ON TRIGGER benefit_tariff_check_trg ON benefit.benefit_tariff IS 'Tariff rows are frozen while live and once closed';

CREATE TRIGGER benefit_channel_check_trg
    BEFORE INSERT OR UPDATE OR DELETE ON benefit.benefit_channel
    FOR EACH ROW EXECUTE FUNCTION benefit.check_benefit_child();
COMMENT ON TRIGGER benefit_channel_check_trg ON benefit.benefit_channel IS 'Channels are frozen once closed';

CREATE FUNCTION benefit.check_live_complete()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
    bcode text;
    problems text;
    n integer;
BEGIN
    -- A status change to validated or live: every problem refuses it,
    -- judged on the row as written (not as it was before the UPDATE).
    IF TG_TABLE_NAME = 'benefit' THEN
      IF NEW.status IS DISTINCT FROM OLD.status THEN
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
    -- "The validity has already ended" is not held against edits.
    FOR id IN
        SELECT DISTINCT x FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.benefit_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.benefit_id END]) AS x
         WHERE x IS NOT NULL
    LOOP
        SELECT b.code INTO bcode FROM benefit.benefit b WHERE b.benefit_id = id AND b.status = 'live';
        CONTINUE WHEN NOT FOUND;
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
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit.check_live_complete() IS
    'Trigger function: refuses validating or going live with problems, and an edit that would leave a live benefit incomplete (for example removing its last channel)';

CREATE CONSTRAINT TRIGGER benefit_live_complete_trg
    AFTER UPDATE ON benefit.benefit
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN ((NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('validated', 'live'))
                       OR (NEW.status = 'live' AND NEW.revision = OLD.revision))
    EXECUTE FUNCTION benefit.check_live_complete();
COMMENT ON TRIGGER benefit_live_complete_trg ON benefit.benefit IS 'Validating and going live need a complete benefit, and a live benefit stays complete';

CREATE CONSTRAINT TRIGGER benefit_channel_live_complete_trg
    AFTER INSERT OR UPDATE OR DELETE ON benefit.benefit_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION benefit.check_live_complete();
COMMENT ON TRIGGER benefit_channel_live_complete_trg ON benefit.benefit_channel IS 'A live benefit keeps a channel; SET CONSTRAINTS benefit.benefit_channel_live_complete_trg DEFERRED to swap channels in one transaction';

CREATE FUNCTION benefit.set_status(p_benefit_id bigint, p_status benefit.benefit_status)
RETURNS benefit.benefit_status
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur benefit.benefit_status;
BEGIN
    SELECT b.status INTO cur FROM benefit.benefit b WHERE b.benefit_id = p_benefit_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'benefit % does not exist', p_benefit_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF cur <> p_status THEN
        UPDATE benefit.benefit SET status = p_status WHERE benefit_id = p_benefit_id;
    END IF;
    RETURN p_status;
END
$$;
COMMENT ON FUNCTION benefit.set_status(bigint, benefit.benefit_status) IS
    'Moves a benefit to a lifecycle state (idempotent when it is already there); the transition rules and checks are those of the benefit table''s trigger';

CREATE FUNCTION benefit.validate(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(validate.benefit_id, 'validated');
END;
COMMENT ON FUNCTION benefit.validate(bigint) IS
    'draft -> validated: checks completeness and refuses (55000) with every problem listed';

CREATE FUNCTION benefit.go_live(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(go_live.benefit_id, 'live');
END;
COMMENT ON FUNCTION benefit.go_live(bigint) IS
    'draft, validated or suspended -> live: checks completeness and refuses (55000) with every problem listed';

CREATE FUNCTION benefit.suspend(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(suspend.benefit_id, 'suspended');
END;
COMMENT ON FUNCTION benefit.suspend(bigint) IS
    'live -> suspended: stops offering the benefit; tariff rows, access code and point of sale become editable until it goes live again';

CREATE FUNCTION benefit.close(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(close.benefit_id, 'closed');
END;
COMMENT ON FUNCTION benefit.close(bigint) IS
    'any state -> closed: final; the benefit and its history stay for reporting';

CREATE FUNCTION benefit.library_version()
RETURNS text
AS 'MODULE_PATHNAME', 'benefit_library_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.library_version() IS
    'Version the loaded shared library was built for; equals the installed extension version unless the library and the SQL objects are out of step';

--------------------------------------------------------------------------
-- Single-use codes: batches, codes, history, mail outbox
--------------------------------------------------------------------------

CREATE TYPE benefit.code_state AS ENUM ('issued', 'held', 'used', 'invalidated');
COMMENT ON TYPE benefit.code_state IS
    'State of a single-use code: issued -> held (by one order until a deadline) -> used; a hold can be released or expire (back to issued); issued or held codes can be invalidated; used and invalidated are final';

CREATE TABLE benefit.code_batch (
    batch_id    bigint GENERATED ALWAYS AS IDENTITY,
    benefit_id  bigint NOT NULL,
    season_id   bigint NOT NULL,
    contact_id  bigint NOT NULL,
    code_count  integer NOT NULL,
    email       text NOT NULL,
    document    text NOT NULL,
    language    text NOT NULL,
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT code_batch_pkey PRIMARY KEY (batch_id),
    CONSTRAINT code_batch_code_count_check CHECK (code_count > 0),
    CONSTRAINT code_batch_document_check CHECK (btrim(document) <> ''),
    CONSTRAINT code_batch_language_check CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    CONSTRAINT code_batch_benefit_id_fkey FOREIGN KEY (benefit_id) REFERENCES benefit.benefit (benefit_id),
    CONSTRAINT code_batch_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id),
    CONSTRAINT code_batch_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES benefit.contact (contact_id)
);
CREATE INDEX code_batch_contact_id_idx ON benefit.code_batch (contact_id);
CREATE INDEX code_batch_benefit_id_idx ON benefit.code_batch (benefit_id);
COMMENT ON TABLE benefit.code_batch IS 'A batch of single-use codes generated for an organisation contact (Complément vente: générer et envoyer les codes); written by benefit.generate_codes';
COMMENT ON COLUMN benefit.code_batch.batch_id IS 'Surrogate key, returned by benefit.generate_codes';
COMMENT ON COLUMN benefit.code_batch.benefit_id IS 'The single-use benefit the codes unlock';
COMMENT ON COLUMN benefit.code_batch.season_id IS 'Season of the benefit when the batch was generated';
COMMENT ON COLUMN benefit.code_batch.contact_id IS 'The organisation contact that receives the codes';
COMMENT ON COLUMN benefit.code_batch.code_count IS 'How many codes were generated';
COMMENT ON COLUMN benefit.code_batch.email IS 'E-mail address the CSV goes to, taken from the contact at generation time';
COMMENT ON COLUMN benefit.code_batch.document IS 'Document template the mailer uses';
COMMENT ON COLUMN benefit.code_batch.language IS 'Language of the mail';
COMMENT ON COLUMN benefit.code_batch.created_by IS 'Who generated the batch (database role)';
COMMENT ON COLUMN benefit.code_batch.created_at IS 'When';
COMMENT ON CONSTRAINT code_batch_code_count_check ON benefit.code_batch IS 'code_count must be positive';
COMMENT ON CONSTRAINT code_batch_document_check ON benefit.code_batch IS 'document must not be blank';
COMMENT ON CONSTRAINT code_batch_language_check ON benefit.code_batch IS 'language is an ISO 639-1 code, optionally with a region';
COMMENT ON INDEX benefit.code_batch_contact_id_idx IS 'Batches of an organisation contact';
COMMENT ON INDEX benefit.code_batch_benefit_id_idx IS 'Batches of a benefit';

CREATE TABLE benefit.single_use_code (
    code        benefit.code NOT NULL,
    batch_id    bigint NOT NULL,
    benefit_id  bigint NOT NULL,
    state       benefit.code_state NOT NULL DEFAULT 'issued',
    hold_order  text,
    hold_until  timestamptz,
    used_at     timestamptz,
    used_by_contact bigint,
    used_order  text,
    invalidated_at timestamptz,
    invalidated_by name,
    invalidated_reason text,
    CONSTRAINT single_use_code_pkey PRIMARY KEY (code),
    CONSTRAINT single_use_code_hold_check
        CHECK ((state = 'held') = (hold_order IS NOT NULL AND hold_until IS NOT NULL)),
    CONSTRAINT single_use_code_used_check CHECK ((state = 'used') = (used_at IS NOT NULL AND used_order IS NOT NULL)),
    CONSTRAINT single_use_code_invalidated_check
        CHECK ((state = 'invalidated') = (invalidated_at IS NOT NULL AND invalidated_reason IS NOT NULL))
) WITH (fillfactor = 80);
CREATE INDEX single_use_code_batch_id_idx ON benefit.single_use_code (batch_id);
COMMENT ON TABLE benefit.single_use_code IS 'Every single-use code and its state; the hot table of redemption (fillfactor 80 and no index on changing columns, so updates stay HOT)';
COMMENT ON COLUMN benefit.single_use_code.code IS 'The code (8 bytes)';
COMMENT ON COLUMN benefit.single_use_code.batch_id IS 'The batch it was generated in (no foreign key: rows are written only by benefit.generate_codes, and a per-row key check would double the cost of generating a million codes)';
COMMENT ON COLUMN benefit.single_use_code.benefit_id IS 'The benefit it unlocks (that of its batch, copied so redemption reads one row)';
COMMENT ON COLUMN benefit.single_use_code.state IS 'issued, held, used or invalidated';
COMMENT ON COLUMN benefit.single_use_code.hold_order IS 'Order reference holding the code (state held)';
COMMENT ON COLUMN benefit.single_use_code.hold_until IS 'Deadline of the hold (state held)';
COMMENT ON COLUMN benefit.single_use_code.used_at IS 'When it was used (state used)';
COMMENT ON COLUMN benefit.single_use_code.used_by_contact IS 'Contact who used it, NULL for an anonymous buyer';
COMMENT ON COLUMN benefit.single_use_code.used_order IS 'Order it was used for (state used)';
COMMENT ON COLUMN benefit.single_use_code.invalidated_at IS 'When an operator invalidated it';
COMMENT ON COLUMN benefit.single_use_code.invalidated_by IS 'Who invalidated it (database role)';
COMMENT ON COLUMN benefit.single_use_code.invalidated_reason IS 'Why it was invalidated';
COMMENT ON CONSTRAINT single_use_code_hold_check ON benefit.single_use_code IS 'a held code has an order reference and a deadline, and only a held code has them';
COMMENT ON CONSTRAINT single_use_code_used_check ON benefit.single_use_code IS 'a used code has a use time and an order, and only a used code has them';
COMMENT ON CONSTRAINT single_use_code_invalidated_check ON benefit.single_use_code IS 'an invalidated code has a time and a reason, and only an invalidated code has them';
COMMENT ON INDEX benefit.single_use_code_batch_id_idx IS 'Codes of a batch (CSV export, dashboard)';

CREATE TABLE benefit.mail_outbox (
    outbox_id   bigint GENERATED ALWAYS AS IDENTITY,
    batch_id    bigint NOT NULL,
    email       text NOT NULL,
    document    text NOT NULL,
    language    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    sent_at     timestamptz,
    CONSTRAINT mail_outbox_pkey PRIMARY KEY (outbox_id),
    CONSTRAINT mail_outbox_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES benefit.code_batch (batch_id)
);
CREATE INDEX mail_outbox_unsent_idx ON benefit.mail_outbox (outbox_id) WHERE sent_at IS NULL;
COMMENT ON TABLE benefit.mail_outbox IS 'Mails to send, written in the transaction that generates a batch; a mailer outside the database LISTENs on channel benefit_code_batch, sends the CSV of benefit.batch_codes(batch_id) and sets sent_at';
COMMENT ON COLUMN benefit.mail_outbox.outbox_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.mail_outbox.batch_id IS 'The batch whose codes go in the CSV';
COMMENT ON COLUMN benefit.mail_outbox.email IS 'Recipient';
COMMENT ON COLUMN benefit.mail_outbox.document IS 'Document template';
COMMENT ON COLUMN benefit.mail_outbox.language IS 'Language of the mail';
COMMENT ON COLUMN benefit.mail_outbox.created_at IS 'When the mail was queued';
COMMENT ON COLUMN benefit.mail_outbox.sent_at IS 'When the mailer sent it; NULL while pending';
COMMENT ON INDEX benefit.mail_outbox_unsent_idx IS 'Pending mails';

CREATE FUNCTION benefit.generate_codes(benefit_id bigint, organisation_contact_id bigint, count integer,
                                       document text, language text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'benefit_generate_codes'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit.generate_codes(bigint, bigint, integer, text, text) IS
    'Generates count single-use codes (1 to 10,000,000) of a single-use benefit for an organisation contact, records the batch, queues its mail in mail_outbox and sends NOTIFY benefit_code_batch with the batch id; returns the batch id';

CREATE FUNCTION benefit.batch_codes(batch_id bigint)
RETURNS TABLE (code text, benefit text, benefit_name text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT c.code::text, b.code, b.name
      FROM benefit.single_use_code c
      JOIN benefit.benefit b ON b.benefit_id = c.benefit_id
     WHERE c.batch_id = batch_codes.batch_id
     ORDER BY c.code;
END;
COMMENT ON FUNCTION benefit.batch_codes(bigint) IS
    'The codes of a batch, for the CSV mailed to the organisation: COPY (SELECT * FROM benefit.batch_codes(42)) TO STDOUT WITH CSV HEADER';

CREATE TYPE benefit.reason AS ENUM (
    'ok', 'unknown_code', 'already_used', 'invalidated', 'held_by_other_order', 'benefit_not_live',
    'not_yet_valid', 'expired', 'wrong_channel', 'wrong_point_of_sale',
    -- basket pricing and holds
    'no_tariff', 'not_best', 'price_not_lower', 'quota_exhausted', 'performance_quota_exhausted',
    'contact_quota_exhausted', 'unknown_promo_code', 'promo_not_active', 'indicator_level_required',
    'contact_required', 'promo_limit_reached', 'promo_contact_limit_reached', 'min_amount_not_reached',
    'order_already_held', 'unknown_order', 'hold_expired', 'already_confirmed', 'already_released',
    -- repeated wrong code entries
    'throttled');
COMMENT ON TYPE benefit.reason IS
    'Why a runtime call accepted or refused something: business refusals are results with a reason, not errors (README lists each)';

CREATE TYPE benefit.redemption AS (
    reason      benefit.reason,
    code        benefit.code,
    benefit_id  bigint,
    benefit_code text,
    used_at     timestamptz
);
COMMENT ON TYPE benefit.redemption IS
    'Result of benefit.redeem_code: the reason (ok or why not), the code, its benefit and, when ok, the time of use';

CREATE TABLE benefit.code_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    code        benefit.code NOT NULL,
    from_state  benefit.code_state NOT NULL,
    to_state    benefit.code_state NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by_role     name NOT NULL DEFAULT SESSION_USER,
    order_ref   text,
    contact_id  bigint,
    channel     text,
    reason      text,
    CONSTRAINT code_history_pkey PRIMARY KEY (code, history_id)
);
COMMENT ON TABLE benefit.code_history IS 'Every change of state of every single-use code, appended by the runtime functions; never updated or deleted by the API (keyed by code first, so concurrent appends for different codes do not all hit the last page of one index)';
COMMENT ON COLUMN benefit.code_history.history_id IS 'Surrogate key, in order of writing';
COMMENT ON COLUMN benefit.code_history.code IS 'The code';
COMMENT ON COLUMN benefit.code_history.from_state IS 'State before';
COMMENT ON COLUMN benefit.code_history.to_state IS 'State after';
COMMENT ON COLUMN benefit.code_history.at IS 'When';
COMMENT ON COLUMN benefit.code_history.by_role IS 'Who: the database role of the session (the application or operator login)';
COMMENT ON COLUMN benefit.code_history.order_ref IS 'Order reference of the use or hold, if any';
COMMENT ON COLUMN benefit.code_history.contact_id IS 'Contact who used the code, NULL for an anonymous buyer';
COMMENT ON COLUMN benefit.code_history.channel IS 'Sales channel code of the call, if given';
COMMENT ON COLUMN benefit.code_history.reason IS 'Operator''s reason (invalidation)';

CREATE TABLE benefit.code_attempt (
    key         text NOT NULL,
    window_start timestamptz NOT NULL,
    failures    integer NOT NULL,
    CONSTRAINT code_attempt_pkey PRIMARY KEY (key),
    CONSTRAINT code_attempt_failures_check CHECK (failures > 0)
);
COMMENT ON TABLE benefit.code_attempt IS
    'Wrong code entries (unknown or malformed codes) counted per contact and per client key in a window, for throttling (benefit.throttle_failures, benefit.throttle_window); written by the runtime functions only';
COMMENT ON COLUMN benefit.code_attempt.key IS 'contact:<contact id>, or client:<md5 of the client key the application passed> (the key itself is not stored)';
COMMENT ON COLUMN benefit.code_attempt.window_start IS 'First wrong entry of the current window';
COMMENT ON COLUMN benefit.code_attempt.failures IS 'Wrong entries in the window';
COMMENT ON CONSTRAINT code_attempt_failures_check ON benefit.code_attempt IS 'failures must be positive';

CREATE FUNCTION benefit.throttle_keys(contact_id bigint, client_key text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT array_remove(ARRAY['contact:' || $1::text, 'client:' || md5($2)], NULL)
$$;
COMMENT ON FUNCTION benefit.throttle_keys(bigint, text) IS
    'The throttling keys of a caller: its contact and its client key (hashed), those given';

CREATE FUNCTION benefit.is_throttled(contact_id bigint, client_key text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- the same test as redeem_code's (src/redeem.c), which spells the keys out to stay one statement
    RETURN EXISTS (
        SELECT 1 FROM benefit.code_attempt a
         WHERE a.key = ANY (benefit.throttle_keys(is_throttled.contact_id, is_throttled.client_key))
           AND a.failures >= COALESCE(current_setting('benefit.throttle_failures', true), '10')::integer
           AND a.window_start > clock_timestamp() - COALESCE(current_setting('benefit.throttle_window', true), '15min')::interval);
END
$$;
COMMENT ON FUNCTION benefit.is_throttled(bigint, text) IS
    'True when the contact or the client key entered benefit.throttle_failures wrong codes or more within the current benefit.throttle_window';

CREATE FUNCTION benefit.record_code_failures(contact_id bigint, client_key text, n integer)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO benefit.code_attempt AS a (key, window_start, failures)
    SELECT k, clock_timestamp(), $3
      FROM unnest(benefit.throttle_keys($1, $2)) k
     WHERE $3 > 0
     ORDER BY k
    ON CONFLICT (key) DO UPDATE
       SET failures = CASE WHEN a.window_start <= clock_timestamp()
                                  - COALESCE(current_setting('benefit.throttle_window', true), '15min')::interval
                           THEN EXCLUDED.failures ELSE a.failures + EXCLUDED.failures END,
           window_start = CASE WHEN a.window_start <= clock_timestamp()
                                      - COALESCE(current_setting('benefit.throttle_window', true), '15min')::interval
                               THEN clock_timestamp() ELSE a.window_start END
$$;
COMMENT ON FUNCTION benefit.record_code_failures(bigint, text, integer) IS
    'Counts n wrong code entries against the contact and the client key; a window that ended starts again; a valid code resets nothing';

CREATE FUNCTION benefit.redeem_code(code benefit.code, contact_id bigint, order_ref text,
                                    channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                    client_key text DEFAULT NULL)
RETURNS benefit.redemption
AS 'MODULE_PATHNAME', 'benefit_redeem_code'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.redeem_code(benefit.code, bigint, text, text, text, text) IS
    'Checks and uses a single-use code for an order in one call: returns reason ok exactly once per code, whatever the concurrency, or why not (unknown_code, already_used, invalidated, held_by_other_order, benefit_not_live, not_yet_valid, expired, wrong_channel, wrong_point_of_sale); contact_id NULL for an anonymous buyer; channel and point_of_sale are sales-channel and point-of-sale codes (NULL: not checked). Its statements run with pg_catalog as the only schema searched, pinned in C rather than by a SET clause';

CREATE FUNCTION benefit.check_code_use(state benefit.code_state, hold_order text, hold_until timestamptz,
                                       benefit_id bigint, order_ref text, channel text, point_of_sale text)
RETURNS benefit.reason
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b record;
    ch record;
BEGIN
    IF state = 'invalidated' THEN
        RETURN 'invalidated';
    ELSIF state = 'used' THEN
        RETURN 'already_used';
    ELSIF state = 'held' AND hold_order IS DISTINCT FROM order_ref AND hold_until >= now() THEN
        RETURN 'held_by_other_order';
    END IF;
    SELECT bb.status, bb.valid_from, bb.valid_until, bb.all_channels, p.code AS pos_code INTO b
      FROM benefit.benefit bb LEFT JOIN benefit.point_of_sale p ON p.point_of_sale_id = bb.point_of_sale_id
     WHERE bb.benefit_id = check_code_use.benefit_id;
    IF b.status <> 'live' THEN
        RETURN 'benefit_not_live';
    ELSIF b.valid_from > now() THEN
        RETURN 'not_yet_valid';
    ELSIF b.valid_until <= now() THEN
        RETURN 'expired';
    END IF;
    IF channel IS NOT NULL THEN
        SELECT sc.kind, EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                 WHERE bc.benefit_id = check_code_use.benefit_id AND bc.channel_id = sc.channel_id) AS listed
          INTO ch
          FROM benefit.sales_channel sc WHERE sc.code = channel;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'sales channel "%" does not exist', channel USING ERRCODE = 'invalid_parameter_value';
        ELSIF NOT b.all_channels AND NOT ch.listed THEN
            RETURN 'wrong_channel';
        ELSIF ch.kind = 'web' AND b.pos_code IS NOT NULL AND point_of_sale IS DISTINCT FROM b.pos_code THEN
            RETURN 'wrong_point_of_sale';
        END IF;
    END IF;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text) IS
    'The rules of using a single-use code, in the order redeem_code applies them (state, hold, benefit live, validity, channel, point of sale): ok or the reason';

CREATE FUNCTION benefit.hold_code(code benefit.code, order_ref text, hold_until timestamptz,
                                  channel text DEFAULT NULL, point_of_sale text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    r benefit.reason;
BEGIN
    IF code IS NULL OR order_ref IS NULL OR hold_until IS NULL THEN
        RAISE EXCEPTION 'code, order_ref and hold_until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF hold_until <= now() OR hold_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'hold_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('hold_until was %s.', hold_until);
    END IF;
    -- the checks of redeem_code, without using the code: same reasons, same order
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) hold_code.code FOR UPDATE;
    IF NOT FOUND THEN
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
        INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, channel)
        VALUES (hold_code.code, c.state, 'held', hold_code.order_ref, hold_code.channel);
    END IF;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text) IS
    'Holds a single-use code for an order until a deadline (at most 7 days ahead); holding again for the same order moves the deadline; returns ok or the reason, as redeem_code does; redeem_code by the same order then uses it';

CREATE FUNCTION benefit.release_code(code benefit.code, order_ref text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) release_code.code FOR UPDATE;
    IF NOT FOUND THEN
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
    INSERT INTO benefit.code_history (code, from_state, to_state, order_ref)
    VALUES (release_code.code, 'held', 'issued', release_code.order_ref);
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.release_code(benefit.code, text) IS
    'Gives back a code held by an order (back to issued); idempotent; refuses with held_by_other_order, already_used, invalidated or unknown_code';

CREATE FUNCTION benefit.expire_code_holds()
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
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
    SELECT count(*) FROM logged;
END;
COMMENT ON FUNCTION benefit.expire_code_holds() IS
    'Returns codes whose hold deadline has passed to issued, with a history row each; returns how many; safe to run concurrently (rows being used right now are skipped and caught next time); an expired hold never blocks another order (redeem_code and hold_code ignore it)';

CREATE FUNCTION benefit.invalidate_code(code benefit.code, reason text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st benefit.code_state;
BEGIN
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
COMMENT ON FUNCTION benefit.invalidate_code(benefit.code, text) IS
    'Operator invalidation of an issued or held code (who, when and why recorded); returns ok, or already_used / invalidated / unknown_code when it cannot';

--------------------------------------------------------------------------
-- The "Code avantage" box, tickets, code reporting
--------------------------------------------------------------------------

CREATE FUNCTION benefit.enter_code(code text, channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                   contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS TABLE (kind text, reason benefit.reason, benefit_id bigint, benefit_code text, benefit_name text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    b record;
    v_channel_id bigint;
BEGIN
    IF (enter_code.contact_id IS NOT NULL OR enter_code.client_key IS NOT NULL)
       AND benefit.is_throttled(enter_code.contact_id, enter_code.client_key) THEN
        RETURN QUERY SELECT 'unknown'::text, 'throttled'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF enter_code.code IS NULL OR length(enter_code.code) > 200 THEN
        PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
        RETURN QUERY SELECT 'unknown'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF benefit.is_valid_code(enter_code.code) THEN
        SELECT sc.*, bb.code AS bcode, bb.name AS bname INTO c
          FROM benefit.single_use_code sc JOIN benefit.benefit bb ON bb.benefit_id = sc.benefit_id
         WHERE sc.code OPERATOR(benefit.=) enter_code.code::benefit.code;
        IF NOT FOUND THEN
            PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
            RETURN QUERY SELECT 'single_use'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        ELSE
            RETURN QUERY SELECT 'single_use'::text,
                                benefit.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, NULL,
                                                       enter_code.channel, enter_code.point_of_sale),
                                c.benefit_id, c.bcode, c.bname;
        END IF;
        RETURN;
    END IF;
    SELECT bb.benefit_id, bb.code, bb.name, bb.status, bb.valid_from, bb.valid_until, bb.all_channels INTO b
      FROM benefit.benefit bb
     WHERE lower(bb.access_code) = lower(btrim(enter_code.code)) AND bb.target_type = 'partner';
    IF NOT FOUND THEN
        PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
        RETURN QUERY SELECT 'unknown'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF channel IS NOT NULL THEN
        SELECT sc.channel_id INTO v_channel_id FROM benefit.sales_channel sc WHERE sc.code = channel;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'sales channel "%" does not exist', channel USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    RETURN QUERY SELECT 'partner'::text,
        CASE WHEN b.status <> 'live' THEN 'benefit_not_live'
             WHEN b.valid_from > now() THEN 'not_yet_valid'
             WHEN b.valid_until <= now() THEN 'expired'
             WHEN channel IS NOT NULL AND NOT b.all_channels
                  AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                   WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_channel_id)
             THEN 'wrong_channel'
             ELSE 'ok' END::benefit.reason,
        b.benefit_id, b.code, b.name;
END
$$;
COMMENT ON FUNCTION benefit.enter_code(text, text, text, bigint, text) IS
    'The web "Code avantage" box and the box-office Avantages button: tells whether the text typed is a single-use code or a partner access code, which benefit it unlocks and whether it can be used now (reason); never raises for what a buyer types; uses nothing';

CREATE TABLE benefit.ticket (
    ticket_ref  text NOT NULL,
    order_ref   text NOT NULL,
    benefit_id  bigint NOT NULL,
    code        benefit.code,
    issued_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    scanned_at  timestamptz,
    CONSTRAINT ticket_pkey PRIMARY KEY (ticket_ref),
    CONSTRAINT ticket_ticket_ref_check CHECK (btrim(ticket_ref) <> '' AND length(ticket_ref) <= 200),
    CONSTRAINT ticket_benefit_id_fkey FOREIGN KEY (benefit_id) REFERENCES benefit.benefit (benefit_id),
    CONSTRAINT ticket_code_fkey FOREIGN KEY (code) REFERENCES benefit.single_use_code (code)
);
CREATE INDEX ticket_code_idx ON benefit.ticket (code);
CREATE INDEX ticket_benefit_id_idx ON benefit.ticket (benefit_id);
COMMENT ON TABLE benefit.ticket IS 'Tickets issued through a benefit (and the single-use code that priced them), and their scan at access control';
COMMENT ON COLUMN benefit.ticket.ticket_ref IS 'The ticketing system''s ticket reference (barcode)';
COMMENT ON COLUMN benefit.ticket.order_ref IS 'Order the ticket was sold in';
COMMENT ON COLUMN benefit.ticket.benefit_id IS 'Benefit that priced the ticket';
COMMENT ON COLUMN benefit.ticket.code IS 'Single-use code that unlocked the benefit, if any';
COMMENT ON COLUMN benefit.ticket.issued_at IS 'When the ticket was issued';
COMMENT ON COLUMN benefit.ticket.scanned_at IS 'First scan at access control, NULL while not scanned';
COMMENT ON CONSTRAINT ticket_ticket_ref_check ON benefit.ticket IS 'ticket_ref must be 1 to 200 characters, not blank';
COMMENT ON INDEX benefit.ticket_code_idx IS 'Tickets of a code';
COMMENT ON INDEX benefit.ticket_benefit_id_idx IS 'Tickets of a benefit';

CREATE FUNCTION benefit.record_ticket(ticket_ref text, order_ref text, benefit_id bigint, code benefit.code DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    IF ticket_ref IS NULL OR order_ref IS NULL OR benefit_id IS NULL THEN
        RAISE EXCEPTION 'ticket_ref, order_ref and benefit_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM benefit.benefit b WHERE b.benefit_id = record_ticket.benefit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'benefit % does not exist', benefit_id USING ERRCODE = 'no_data_found';
    END IF;
    IF code IS NOT NULL THEN
        SELECT sc.state, sc.used_order, sc.benefit_id INTO c FROM benefit.single_use_code sc
         WHERE sc.code OPERATOR(benefit.=) record_ticket.code;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'code % does not exist', code USING ERRCODE = 'no_data_found';
        ELSIF c.benefit_id <> record_ticket.benefit_id THEN
            RAISE EXCEPTION 'code % is not a code of benefit %', code, benefit_id USING ERRCODE = 'invalid_parameter_value';
        ELSIF c.state <> 'used' OR c.used_order <> record_ticket.order_ref THEN
            RAISE EXCEPTION 'code % was not used for order "%"', code, order_ref
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
COMMENT ON FUNCTION benefit.record_ticket(text, text, bigint, benefit.code) IS
    'Records a ticket issued through a benefit, with the single-use code that priced it (which must have been used for that order); refuses unknown benefits and codes and a ticket recorded twice';

CREATE FUNCTION benefit.ticket_scanned(ticket_ref text, at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_scan timestamptz;
BEGIN
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
COMMENT ON FUNCTION benefit.ticket_scanned(text, timestamptz) IS
    'Records the scan of a ticket at access control: true for the first scan, false when it was already scanned (the first time is kept)';

CREATE VIEW benefit.code_tracking AS
SELECT c.code,
       c.batch_id,
       o.contact_id AS organisation_id,
       o.name AS organisation,
       b.benefit_id,
       b.code AS benefit,
       c.state,
       c.hold_order,
       c.hold_until,
       c.used_at,
       c.used_by_contact,
       u.name AS used_by,
       c.used_order,
       c.invalidated_at,
       c.invalidated_by,
       c.invalidated_reason,
       (SELECT count(*) FROM benefit.ticket t WHERE t.code OPERATOR(benefit.=) c.code) AS tickets_issued,
       (SELECT count(*) FROM benefit.ticket t WHERE t.code OPERATOR(benefit.=) c.code AND t.scanned_at IS NOT NULL) AS tickets_scanned
  FROM benefit.single_use_code c
  JOIN benefit.code_batch cb ON cb.batch_id = c.batch_id
  JOIN benefit.contact o ON o.contact_id = cb.contact_id
  JOIN benefit.benefit b ON b.benefit_id = c.benefit_id
  LEFT JOIN benefit.contact u ON u.contact_id = c.used_by_contact;
COMMENT ON VIEW benefit.code_tracking IS
    'Suivi des codes: one row per single-use code: batch, organisation, benefit, state, hold, when it was used, by which contact and for which order, invalidation (when, who, why), tickets issued and scanned';

CREATE VIEW benefit.code_dashboard AS
SELECT o.contact_id AS organisation_id,
       o.name AS organisation,
       b.benefit_id,
       b.code AS benefit,
       b.name AS benefit_name,
       count(DISTINCT cb.batch_id) AS batches,
       count(c.code) AS codes_generated,
       count(c.code) FILTER (WHERE c.state = 'used') AS codes_used,
       count(c.code) FILTER (WHERE c.state = 'held') AS codes_held,
       count(c.code) FILTER (WHERE c.state = 'invalidated') AS codes_invalidated,
       count(c.code) FILTER (WHERE c.state = 'issued') AS codes_left,
       coalesce(sum(tk.issued), 0)::bigint AS tickets_issued,
       coalesce(sum(tk.scanned), 0)::bigint AS tickets_scanned
  FROM benefit.code_batch cb
  JOIN benefit.contact o ON o.contact_id = cb.contact_id
  JOIN benefit.benefit b ON b.benefit_id = cb.benefit_id
  JOIN benefit.single_use_code c ON c.batch_id = cb.batch_id
  LEFT JOIN (SELECT t.code, count(*) AS issued, count(t.scanned_at) AS scanned
               FROM benefit.ticket t WHERE t.code IS NOT NULL GROUP BY t.code) tk
    ON tk.code OPERATOR(benefit.=) c.code
 GROUP BY o.contact_id, o.name, b.benefit_id, b.code, b.name;
COMMENT ON VIEW benefit.code_dashboard IS
    'Tableau de bord: per organisation contact and benefit: batches, codes generated, used, held, invalidated and left, tickets issued with them and tickets scanned at entry';

--------------------------------------------------------------------------
-- Reporting
--------------------------------------------------------------------------

CREATE VIEW benefit.benefit_overview AS
SELECT b.benefit_id,
       b.code,
       b.name,
       s.code AS season,
       b.target_type,
       b.status,
       b.valid_from,
       b.valid_until,
       CASE WHEN b.all_channels THEN ARRAY['*']
            ELSE ARRAY(SELECT c.code FROM benefit.benefit_channel bc
                         JOIN benefit.sales_channel c ON c.channel_id = bc.channel_id
                        WHERE bc.benefit_id = b.benefit_id ORDER BY c.code)
       END AS channels,
       b.quota_total,
       (SELECT count(*) FROM benefit.benefit_tariff t WHERE t.benefit_id = b.benefit_id) AS tariff_rows,
       benefit.count_problems(b.benefit_id) AS problems
  FROM benefit.benefit b
  JOIN benefit.season s ON s.season_id = b.season_id;
COMMENT ON VIEW benefit.benefit_overview IS
    'One row per benefit: season, target type, status, validity, channels (* for all), total quota, number of tariff rows and of go-live problems';

--------------------------------------------------------------------------
-- Runtime: who may use what, quotas, basket pricing, holds
--
-- The PL/pgSQL functions here run with plan_cache_mode = force_generic_plan:
-- their statements look rows up by key, and the plan cache otherwise keeps
-- re-planning the larger ones (a custom plan per call cost eligibility ten
-- times its run time).
--------------------------------------------------------------------------

CREATE TYPE benefit.basket_line AS (
    product_id  bigint,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    quantity    integer,
    base_price_cents bigint
);
COMMENT ON TYPE benefit.basket_line IS
    'One line of a basket to price: product, performance, seat category and audience (NULL when the product has none), quantity (1-1000) and the unit price in cents before benefits (NULL: the most specific benefit.base_price row)';

CREATE TYPE benefit.priced_line AS (
    line_no     integer,
    product_id  bigint,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    quantity    integer,
    base_price_cents bigint,
    unit_price_cents bigint,
    benefit_id  bigint,
    benefit_code text,
    tariff_id   bigint,
    line_cents  bigint,
    promo_discount_cents bigint,
    total_cents bigint
);
COMMENT ON TYPE benefit.priced_line IS
    'A priced basket line: the unit price after the best benefit (the base price when none applies), the benefit and tariff row used, the line amount (unit price x quantity), its share of the promo discount, and what is left to pay';

CREATE TYPE benefit.refusal AS (
    line_no     integer,
    benefit_id  bigint,
    benefit_code text,
    entered_code text,
    reason      benefit.reason
);
COMMENT ON TYPE benefit.refusal IS
    'Something that was not applied, and why: a benefit on a line (line_no), an entered code that unlocks nothing (entered_code), or the promo code (line_no NULL)';

CREATE TYPE benefit.priced_basket AS (
    reason      benefit.reason,
    lines       benefit.priced_line[],
    refusals    benefit.refusal[],
    base_cents  bigint,
    lines_cents bigint,
    promo_code  text,
    promo_discount_cents bigint,
    total_cents bigint,
    order_ref   text,
    held_until  timestamptz
);
COMMENT ON TYPE benefit.priced_basket IS
    'Result of price_basket and hold: reason (ok, or why a hold was refused), the priced lines, the refusals, the basket at catalogue prices, after line benefits, the promo code applied and its discount, the total to pay; order_ref and held_until for a hold';

CREATE TYPE benefit.hold_state AS ENUM ('held', 'confirmed', 'released', 'expired');
COMMENT ON TYPE benefit.hold_state IS
    'State of an order hold: held (units reserved until held_until), confirmed (uses final), released (given back by the order), expired (given back at the deadline)';

CREATE TYPE benefit.counter_kind AS ENUM ('benefit_slot', 'benefit_performance', 'benefit_contact',
                                          'promo_slot', 'promo_contact');
COMMENT ON TYPE benefit.counter_kind IS
    'Which counter a hold reserved units on; also the order in which every runtime call locks counters (with owner and key, after order rows and single-use codes), so that concurrent calls never deadlock';

CREATE TABLE benefit.counter (
    kind        benefit.counter_kind NOT NULL,
    owner_id    bigint NOT NULL,
    key         bigint NOT NULL,
    cap         integer,
    held        integer NOT NULL DEFAULT 0,
    used        integer NOT NULL DEFAULT 0,
    CONSTRAINT counter_pkey PRIMARY KEY (kind, owner_id, key),
    CONSTRAINT counter_units_check CHECK (held >= 0 AND used >= 0 AND (cap IS NULL OR held + used <= cap)),
    CONSTRAINT counter_cap_check CHECK (cap >= 0)
) WITH (fillfactor = 50);
COMMENT ON TABLE benefit.counter IS
    'Units held and used: a benefit''s total quota and a promo code''s total limit split into 16 slots (key 0-15, each with its cap) that buyers lock independently; per performance, per contact of a benefit and per contact of a promo code, one row each (key: performance or contact id, checked against the benefit''s or promo code''s current limit); written only by the runtime functions (fillfactor 50 and no index on held/used, so updates stay HOT)';
COMMENT ON COLUMN benefit.counter.kind IS 'benefit_slot, benefit_performance, benefit_contact, promo_slot or promo_contact';
COMMENT ON COLUMN benefit.counter.owner_id IS 'The benefit or promo code';
COMMENT ON COLUMN benefit.counter.key IS 'Slot number (0-15), performance id or contact id';
COMMENT ON COLUMN benefit.counter.cap IS 'Units this slot may hold and use in all (slots only; NULL: no limit)';
COMMENT ON COLUMN benefit.counter.held IS 'Units reserved by open holds';
COMMENT ON COLUMN benefit.counter.used IS 'Units used by confirmed orders';
COMMENT ON CONSTRAINT counter_units_check ON benefit.counter IS
    'never negative, and a slot never holds and uses more than its cap: the last guard against overselling';
COMMENT ON CONSTRAINT counter_cap_check ON benefit.counter IS 'a cap is not negative';

CREATE TABLE benefit.order_hold (
    order_ref   text NOT NULL,
    state       benefit.hold_state NOT NULL DEFAULT 'held',
    contact_id  bigint,
    channel     text NOT NULL,
    point_of_sale text,
    held_until  timestamptz NOT NULL,
    promo_code_id bigint,
    base_cents  bigint NOT NULL,
    lines_cents bigint NOT NULL,
    promo_discount_cents bigint NOT NULL,
    total_cents bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT SESSION_USER,
    closed_at   timestamptz,
    closed_by   name,
    CONSTRAINT order_hold_pkey PRIMARY KEY (order_ref),
    CONSTRAINT order_hold_closed_check CHECK ((state = 'held') = (closed_at IS NULL))
);
CREATE INDEX order_hold_open_idx ON benefit.order_hold (held_until) WHERE state = 'held';
COMMENT ON TABLE benefit.order_hold IS
    'One row per order put on hold by benefit.hold: its state, deadline and priced totals; an order reference is held once (README)';
COMMENT ON COLUMN benefit.order_hold.order_ref IS 'The application''s order reference';
COMMENT ON COLUMN benefit.order_hold.state IS 'held, confirmed, released or expired';
COMMENT ON COLUMN benefit.order_hold.contact_id IS 'The buyer, NULL for an anonymous buyer';
COMMENT ON COLUMN benefit.order_hold.channel IS 'Sales channel code of the hold';
COMMENT ON COLUMN benefit.order_hold.point_of_sale IS 'Web point of sale code of the hold, if any';
COMMENT ON COLUMN benefit.order_hold.held_until IS 'Deadline: after it the hold is never confirmed and expire_holds gives its units back';
COMMENT ON COLUMN benefit.order_hold.promo_code_id IS 'The promo code applied, if any';
COMMENT ON COLUMN benefit.order_hold.base_cents IS 'Basket at catalogue prices';
COMMENT ON COLUMN benefit.order_hold.lines_cents IS 'Basket after line benefits (what the promo minimum is measured on)';
COMMENT ON COLUMN benefit.order_hold.promo_discount_cents IS 'Discount of the promo code on the whole basket';
COMMENT ON COLUMN benefit.order_hold.total_cents IS 'Total to pay';
COMMENT ON COLUMN benefit.order_hold.created_at IS 'When it was held';
COMMENT ON COLUMN benefit.order_hold.created_by IS 'Who held it (database role of the session)';
COMMENT ON COLUMN benefit.order_hold.closed_at IS 'When it was confirmed, released or expired';
COMMENT ON COLUMN benefit.order_hold.closed_by IS 'Who confirmed, released or expired it';
COMMENT ON CONSTRAINT order_hold_closed_check ON benefit.order_hold IS 'an open hold has no closing time, a closed one has one';
COMMENT ON INDEX benefit.order_hold_open_idx IS 'Open holds by deadline, for expire_holds';

CREATE TABLE benefit.order_hold_counter (
    order_ref   text NOT NULL,
    kind        benefit.counter_kind NOT NULL,
    owner_id    bigint NOT NULL,
    key         bigint NOT NULL,
    units       integer NOT NULL,
    CONSTRAINT order_hold_counter_pkey PRIMARY KEY (order_ref, kind, owner_id, key),
    CONSTRAINT order_hold_counter_units_check CHECK (units > 0),
    CONSTRAINT order_hold_counter_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref)
);
COMMENT ON TABLE benefit.order_hold_counter IS
    'The units each hold reserved on each counter, so that confirm and release move exactly those';
COMMENT ON COLUMN benefit.order_hold_counter.order_ref IS 'The order';
COMMENT ON COLUMN benefit.order_hold_counter.kind IS 'Counter kind';
COMMENT ON COLUMN benefit.order_hold_counter.owner_id IS 'Counter owner (benefit or promo code)';
COMMENT ON COLUMN benefit.order_hold_counter.key IS 'Counter key (slot, performance or contact)';
COMMENT ON COLUMN benefit.order_hold_counter.units IS 'Units reserved';
COMMENT ON CONSTRAINT order_hold_counter_units_check ON benefit.order_hold_counter IS 'units must be positive';

CREATE TABLE benefit.order_line (
    order_ref   text NOT NULL,
    line_no     integer NOT NULL,
    product_id  bigint NOT NULL,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    quantity    integer NOT NULL,
    base_price_cents bigint NOT NULL,
    unit_price_cents bigint NOT NULL,
    benefit_id  bigint,
    tariff_id   bigint,
    promo_discount_cents bigint NOT NULL,
    total_cents bigint NOT NULL,
    CONSTRAINT order_line_pkey PRIMARY KEY (order_ref, line_no),
    CONSTRAINT order_line_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref)
);
CREATE INDEX order_line_benefit_id_idx ON benefit.order_line (benefit_id) WHERE benefit_id IS NOT NULL;
COMMENT ON TABLE benefit.order_line IS 'The priced lines of each held order (for benefit_usage: units sold and discount given)';
COMMENT ON COLUMN benefit.order_line.order_ref IS 'The order';
COMMENT ON COLUMN benefit.order_line.line_no IS 'Line number in the basket (from 1)';
COMMENT ON COLUMN benefit.order_line.product_id IS 'Product';
COMMENT ON COLUMN benefit.order_line.performance_id IS 'Performance, if any';
COMMENT ON COLUMN benefit.order_line.seat_category_id IS 'Seat category, if any';
COMMENT ON COLUMN benefit.order_line.audience_id IS 'Audience, if any';
COMMENT ON COLUMN benefit.order_line.quantity IS 'Units';
COMMENT ON COLUMN benefit.order_line.base_price_cents IS 'Catalogue unit price';
COMMENT ON COLUMN benefit.order_line.unit_price_cents IS 'Unit price after the benefit';
COMMENT ON COLUMN benefit.order_line.benefit_id IS 'The benefit applied, NULL for none';
COMMENT ON COLUMN benefit.order_line.tariff_id IS 'The tariff row applied';
COMMENT ON COLUMN benefit.order_line.promo_discount_cents IS 'Share of the promo discount';
COMMENT ON COLUMN benefit.order_line.total_cents IS 'Amount to pay for the line';
COMMENT ON INDEX benefit.order_line_benefit_id_idx IS 'Lines sold through a benefit';

CREATE TABLE benefit.order_code (
    order_ref   text NOT NULL,
    code        benefit.code NOT NULL,
    CONSTRAINT order_code_pkey PRIMARY KEY (order_ref, code),
    CONSTRAINT order_code_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref)
);
COMMENT ON TABLE benefit.order_code IS 'The single-use codes each hold claimed';
COMMENT ON COLUMN benefit.order_code.order_ref IS 'The order';
COMMENT ON COLUMN benefit.order_code.code IS 'The code';

CREATE INDEX benefit_live_public_idx ON benefit.benefit (benefit_id) WHERE target_type = 'public' AND status = 'live';
CREATE INDEX benefit_campaign_id_idx ON benefit.benefit (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX benefit_indicator_level_id_idx ON benefit.benefit (indicator_level_id) WHERE indicator_level_id IS NOT NULL;
COMMENT ON INDEX benefit.benefit_live_public_idx IS 'Live public benefits (available, price_basket)';
COMMENT ON INDEX benefit.benefit_campaign_id_idx IS 'Benefits of a campaign (a contact''s contacts benefits)';
COMMENT ON INDEX benefit.benefit_indicator_level_id_idx IS 'Benefits of an indicator level (a contact''s indicator benefits)';

-- The slots of a benefit's total quota or a promo code's total limit: 16 rows created with the
-- benefit or promo code; their caps are spread again whenever the total changes.
CREATE FUNCTION benefit.spread_slots(p_kind benefit.counter_kind, p_owner bigint, p_total integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_taken bigint;
BEGIN
    INSERT INTO benefit.counter (kind, owner_id, key)
    SELECT p_kind, p_owner, k FROM generate_series(0, 15) k
    ON CONFLICT DO NOTHING;
    -- lock the slots in key order, the order every runtime call locks them in
    SELECT sum(c.held + c.used) INTO v_taken
      FROM (SELECT held, used FROM benefit.counter
             WHERE kind = p_kind AND owner_id = p_owner ORDER BY key FOR UPDATE) c;
    IF p_total < v_taken THEN
        RAISE EXCEPTION 'cannot set the limit below the % units already held or used', v_taken
              USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE benefit.counter c
       SET cap = CASE WHEN p_total IS NULL THEN NULL
                      ELSE c.held + c.used + (p_total - v_taken) / 16
                           + CASE WHEN c.key < (p_total - v_taken) % 16 THEN 1 ELSE 0 END END
     WHERE c.kind = p_kind AND c.owner_id = p_owner;
END
$$;
COMMENT ON FUNCTION benefit.spread_slots(benefit.counter_kind, bigint, integer) IS
    'Creates the 16 slots of a benefit''s total quota or a promo code''s total limit if missing, and spreads the units not yet held or used evenly over them (NULL: no limit); called by triggers';

CREATE FUNCTION benefit.maintain_slots()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF TG_TABLE_NAME = 'benefit' THEN
        PERFORM benefit.spread_slots('benefit_slot', NEW.benefit_id, NEW.quota_total);
    ELSE
        PERFORM benefit.spread_slots('promo_slot', NEW.promo_code_id, NEW.max_uses_total);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit.maintain_slots() IS
    'Trigger: keeps the quota slots of a benefit (quota_total) or the use slots of a promo code (max_uses_total) in step with its limit';
CREATE TRIGGER benefit_slots_trg
    AFTER INSERT OR UPDATE OF quota_total ON benefit.benefit
    FOR EACH ROW EXECUTE FUNCTION benefit.maintain_slots();
COMMENT ON TRIGGER benefit_slots_trg ON benefit.benefit IS 'Creates the quota slots of a new benefit and spreads them again when quota_total changes';
CREATE TRIGGER promo_code_slots_trg
    AFTER INSERT OR UPDATE OF max_uses_total ON benefit.promo_code
    FOR EACH ROW EXECUTE FUNCTION benefit.maintain_slots();
COMMENT ON TRIGGER promo_code_slots_trg ON benefit.promo_code IS 'Creates the use slots of a new promo code and spreads them again when max_uses_total changes';

CREATE FUNCTION benefit.channel_id(channel text)
RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF channel_id.channel IS NULL THEN
        RAISE EXCEPTION 'channel must not be NULL' USING ERRCODE = 'null_value_not_allowed',
              HINT = 'Pass the code of the sales channel the sale happens on.';
    END IF;
    SELECT sc.channel_id INTO v_id FROM benefit.sales_channel sc WHERE sc.code = channel_id.channel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sales channel "%" does not exist', channel_id.channel USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION benefit.channel_id(text) IS
    'The id of a sales channel given by code; 22004 for NULL, 22023 for an unknown code (used by the runtime functions)';

CREATE FUNCTION benefit.eligibility(contact_id bigint, channel text, point_of_sale text, at timestamptz, codes text[])
RETURNS TABLE (benefit_id bigint, target_type benefit.target_type, entered_code text,
               single_use_code benefit.code, reason benefit.reason)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_channel_id bigint := benefit.channel_id(eligibility.channel);
    v_at timestamptz := coalesce(eligibility.at, now());
BEGIN
    IF cardinality(eligibility.codes) > 100 THEN
        RAISE EXCEPTION 'at most 100 codes may be entered at once, not %', cardinality(eligibility.codes)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY
    WITH ch AS (
        SELECT sc.channel_id, sc.kind FROM benefit.sales_channel sc WHERE sc.channel_id = v_channel_id
    ), entered AS (
        SELECT DISTINCT btrim(e) AS e
          FROM unnest(eligibility.codes) e
         WHERE e IS NOT NULL AND btrim(e) <> ''
    ), su AS (
        SELECT en.e, c.code, c.benefit_id, c.state, c.hold_until
          FROM entered en
          JOIN benefit.single_use_code c
            ON c.code OPERATOR(benefit.=) (CASE WHEN benefit.is_valid_code(en.e) THEN en.e::benefit.code END)
    ), partner AS (
        SELECT DISTINCT ON (b.benefit_id) en.e, b.benefit_id
          FROM entered en
          JOIN benefit.benefit b ON lower(b.access_code) = lower(en.e) AND b.target_type = 'partner'
         ORDER BY b.benefit_id, en.e
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
                                      WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = ch.channel_id)
                THEN 'wrong_channel'
                WHEN b.point_of_sale_id IS NOT NULL AND ch.kind = 'web'
                     AND NOT EXISTS (SELECT 1 FROM benefit.point_of_sale p
                                      WHERE p.point_of_sale_id = b.point_of_sale_id
                                        AND p.code = eligibility.point_of_sale)
                THEN 'wrong_point_of_sale'
                ELSE 'ok'
           END::benefit.reason
      FROM cand
      JOIN benefit.benefit b ON b.benefit_id = cand.benefit_id
     CROSS JOIN ch
    UNION ALL
    SELECT NULL, NULL, en.e, NULL, 'unknown_code'::benefit.reason
      FROM entered en
     WHERE NOT EXISTS (SELECT 1 FROM su WHERE su.e = en.e)
       AND NOT EXISTS (SELECT 1 FROM benefit.benefit b
                        WHERE lower(b.access_code) = lower(en.e) AND b.target_type = 'partner');
END
$$;
COMMENT ON FUNCTION benefit.eligibility(bigint, text, text, timestamptz, text[]) IS
    'The benefits a buyer may be offered on a channel (and web point of sale) at a time, with the codes entered: live public benefits, the contact''s contacts and indicator benefits (target list and indicator level read now), and every benefit an entered partner or single-use code points to; each with ok or the reason it cannot be used; entered codes that match nothing come back as unknown_code';

CREATE FUNCTION benefit.available(contact_id bigint, channel text, at timestamptz DEFAULT NULL,
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
        SELECT e.benefit_id, b.code, b.name, e.target_type, e.entered_code, e.reason, b.valid_until,
               -- units this buyer may still take: the least of the total quota left, the contact's
               -- limit left and the per-order limit (NULL: no limit)
               LEAST(b.quota_total - (SELECT sum(ct.held + ct.used)::integer FROM benefit.counter ct
                                       WHERE ct.kind = 'benefit_slot' AND ct.owner_id = b.benefit_id),
                     b.quota_per_contact - coalesce((SELECT ct.held + ct.used FROM benefit.counter ct
                                                      WHERE ct.kind = 'benefit_contact' AND ct.owner_id = b.benefit_id
                                                        AND ct.key = available.contact_id), 0),
                     b.quota_per_order) AS quota_left,
               (SELECT jsonb_agg(jsonb_build_object(
                           'tariff_id', t.tariff_id, 'product_id', t.product_id, 'performance_id', t.performance_id,
                           'seat_category_id', t.seat_category_id, 'audience_id', t.audience_id,
                           'price_cents', t.price_cents, 'amount_off_cents', t.amount_off_cents,
                           'percent_off', t.percent_off) ORDER BY t.tariff_id)
                  FROM benefit.benefit_tariff t WHERE t.benefit_id = e.benefit_id) AS tariffs
          FROM benefit.eligibility(available.contact_id, available.channel, available.point_of_sale,
                                   available.at, CASE WHEN v_throttled THEN NULL ELSE available.codes END) e
          LEFT JOIN benefit.benefit b ON b.benefit_id = e.benefit_id
         WHERE e.reason = 'ok' OR e.entered_code IS NOT NULL
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
    'The benefits a buyer (NULL contact: anonymous) may use now on a channel (and web point of sale), given the codes entered: each usable one with its target type, validity end, the units this buyer may still take (NULL: no limit) and its tariff rows (products); then every entered code that unlocks nothing, with its reason';

CREATE FUNCTION benefit.contacts_with_benefits(contact_ids bigint[], channel text, at timestamptz DEFAULT NULL)
RETURNS TABLE (contact_id bigint, benefits integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_channel_id bigint := benefit.channel_id(contacts_with_benefits.channel);
    v_at timestamptz := coalesce(contacts_with_benefits.at, now());
BEGIN
    IF cardinality(contacts_with_benefits.contact_ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 contacts at once, not %', cardinality(contacts_with_benefits.contact_ids)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY
    WITH ids AS (
        SELECT DISTINCT u.id FROM unnest(contacts_with_benefits.contact_ids) u(id) WHERE u.id IS NOT NULL
    ), personal AS (
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels
          FROM ids
          JOIN benefit.campaign_target ct ON ct.contact_id = ids.id
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
        UNION ALL
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels
          FROM ids
          JOIN benefit.contact_indicator ci ON ci.contact_id = ids.id
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
    )
    SELECT p.id, count(DISTINCT p.benefit_id)::integer
      FROM personal p
     WHERE (p.valid_from IS NULL OR p.valid_from <= v_at)
       AND (p.valid_until IS NULL OR p.valid_until > v_at)
       AND (p.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                       WHERE bc.benefit_id = p.benefit_id AND bc.channel_id = v_channel_id))
     GROUP BY p.id
     ORDER BY p.id;
END
$$;
COMMENT ON FUNCTION benefit.contacts_with_benefits(bigint[], text, timestamptz) IS
    'The box-office gift icon: of a list of contacts (up to 10,000), those with a personal benefit (contacts or indicator target) usable now on the channel, with how many; one set-based call';

CREATE FUNCTION benefit.money_unit_price(base_cents bigint, price_cents bigint, amount_off_cents bigint,
                                         percent_off_bp bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'benefit_money_unit_price'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION benefit.money_unit_price(bigint, bigint, bigint, bigint) IS
    'The unit price a tariff row gives on a base price (C, exact cents): a fixed price, an amount off, or a percentage off in basis points (12.5 % = 1250) rounded half up; never below zero';

CREATE FUNCTION benefit.money_basket_discount(total_cents bigint, amount_off_cents bigint, percent_off_bp bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'benefit_money_basket_discount'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION benefit.money_basket_discount(bigint, bigint, bigint) IS
    'A promo code''s discount on a basket total (C, exact cents): an amount or a percentage in basis points rounded half up, never more than the total';

CREATE FUNCTION benefit.money_allocate(discount_cents bigint, weights bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'benefit_money_allocate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.money_allocate(bigint, bigint[]) IS
    'A discount split across lines in proportion to their amounts (C, exact cents): largest remainder first, ties to the earlier line; the parts add up to the discount exactly and no part exceeds its line';

-- The pricing of price_basket and hold, in C (src/pricing.c).  Returns the priced basket and,
-- through uses, what a hold must reserve: one object per line priced with a benefit (benefit,
-- units, the performance when the benefit has a per-performance quota, the single-use code
-- entered for it), in line order.
CREATE FUNCTION benefit.price(lines benefit.basket_line[], contact_id bigint, channel text,
                              point_of_sale text, at timestamptz, codes text[], promo_code text,
                              OUT result benefit.priced_basket, OUT uses jsonb, OUT promo_id bigint)
AS 'MODULE_PATHNAME', 'benefit_price'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit.price(benefit.basket_line[], bigint, text, text, timestamptz, text[], text) IS
    'The pricing shared by price_basket and hold: the priced basket, the uses a hold must reserve (benefit, units, performance, single-use code per line) and the promo code applied';

-- price with throttling: entered codes from a throttled contact or client key are not looked at
-- (each comes back as throttled); otherwise every code that matched nothing counts against them.
CREATE FUNCTION benefit.price_guarded(lines benefit.basket_line[], contact_id bigint, channel text,
                                      point_of_sale text, at timestamptz, codes text[], promo_code text,
                                      client_key text,
                                      OUT result benefit.priced_basket, OUT uses jsonb, OUT promo_id bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    p record;
    v_keyed boolean := price_guarded.contact_id IS NOT NULL OR price_guarded.client_key IS NOT NULL;
    v_entered text[] := ARRAY(SELECT DISTINCT btrim(e) FROM unnest(price_guarded.codes) e
                               WHERE e IS NOT NULL AND btrim(e) <> '' ORDER BY 1);
    v_unknown integer;
BEGIN
    IF v_keyed AND cardinality(v_entered) > 0 AND benefit.is_throttled(price_guarded.contact_id, price_guarded.client_key) THEN
        p := benefit.price(price_guarded.lines, price_guarded.contact_id, price_guarded.channel,
                           price_guarded.point_of_sale, price_guarded.at, NULL, price_guarded.promo_code);
        price_guarded.result := p.result;
        price_guarded.result.refusals := (p.result).refusals
            || ARRAY(SELECT ROW(NULL, NULL, NULL, e, 'throttled')::benefit.refusal FROM unnest(v_entered) e);
    ELSE
        p := benefit.price(price_guarded.lines, price_guarded.contact_id, price_guarded.channel,
                           price_guarded.point_of_sale, price_guarded.at, price_guarded.codes, price_guarded.promo_code);
        price_guarded.result := p.result;
        SELECT count(*) INTO v_unknown FROM unnest((p.result).refusals) r WHERE r.reason = 'unknown_code';
        IF v_keyed AND v_unknown > 0 THEN
            PERFORM benefit.record_code_failures(price_guarded.contact_id, price_guarded.client_key, v_unknown);
        END IF;
    END IF;
    price_guarded.uses := p.uses;
    price_guarded.promo_id := p.promo_id;
END
$$;
COMMENT ON FUNCTION benefit.price_guarded(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) IS
    'benefit.price with the throttling of wrong code entries (used by price_basket and hold)';

CREATE FUNCTION benefit.price_basket(lines benefit.basket_line[], contact_id bigint, channel text,
                                     point_of_sale text DEFAULT NULL, at timestamptz DEFAULT NULL,
                                     codes text[] DEFAULT NULL, promo_code text DEFAULT NULL,
                                     client_key text DEFAULT NULL)
RETURNS benefit.priced_basket
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (benefit.price_guarded(price_basket.lines, price_basket.contact_id, price_basket.channel,
                                  price_basket.point_of_sale, price_basket.at, price_basket.codes,
                                  price_basket.promo_code, price_basket.client_key)).result
$$;
COMMENT ON FUNCTION benefit.price_basket(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) IS
    'Prices a basket for a buyer (NULL contact: anonymous) on a channel at a time with the codes entered and at most one promo code: per line the best usable tariff (cheapest, then lowest benefit id; one per line; quotas honoured in line order), then the promo code on the whole basket allocated to the cent; every benefit or code not applied comes back in refusals with its reason; reserves nothing (see hold)';

CREATE FUNCTION benefit.price_basket(basket jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_lines benefit.basket_line[];
BEGIN
    IF basket IS NULL OR jsonb_typeof(basket) <> 'object' OR jsonb_typeof(basket -> 'lines') <> 'array' THEN
        RAISE EXCEPTION 'the basket must be a JSON object with a "lines" array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(jsonb_populate_record(NULL::benefit.basket_line, l) ORDER BY o) INTO v_lines
      FROM jsonb_array_elements(basket -> 'lines') WITH ORDINALITY x(l, o);
    RETURN to_jsonb(benefit.price_basket(
        v_lines, (basket ->> 'contact_id')::bigint, basket ->> 'channel', basket ->> 'point_of_sale',
        (basket ->> 'at')::timestamptz,
        CASE WHEN basket ? 'codes' THEN ARRAY(SELECT jsonb_array_elements_text(basket -> 'codes')) END,
        basket ->> 'promo_code', basket ->> 'client_key'));
END
$$;
COMMENT ON FUNCTION benefit.price_basket(jsonb) IS
    'price_basket for applications that prefer JSON: {"lines": [{"product_id", "performance_id", "seat_category_id", "audience_id", "quantity", "base_price_cents"}], "contact_id", "channel", "point_of_sale", "at", "codes": [...], "promo_code"} in, the priced basket as JSON out';

-- Reserving units.  Every runtime call locks in one order: order rows, then single-use codes (by
-- code), then counter rows (by kind, owner, key); the only lock taken out of that order is a
-- slot tried with SKIP LOCKED, which never waits and is let go when useless.  So concurrent
-- holds, confirms, releases and expiries never deadlock.
CREATE FUNCTION benefit.take_slots(p_order text, p_kind benefit.counter_kind, p_owner bigint, p_units integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_take_slots'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit.take_slots(text, benefit.counter_kind, bigint, integer) IS
    '(C, src/quota.c) Reserves units on the 16 slots of a benefit''s total quota or a promo code''s total limit for an order: a random free slot first (SKIP LOCKED, no wait), else every slot in key order (waiting); false when the limit has no room left';

CREATE FUNCTION benefit.take_limited(p_order text, p_kind benefit.counter_kind, p_owner bigint, p_key bigint,
                                     p_units integer, p_limit integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_take_limited'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit.take_limited(text, benefit.counter_kind, bigint, bigint, integer, integer) IS
    '(C, src/quota.c) Reserves units on a per-performance or per-contact counter for an order if the limit leaves room; false otherwise';

CREATE FUNCTION benefit.hold(order_ref text, lines benefit.basket_line[], contact_id bigint, channel text,
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
    l benefit.priced_line;
BEGIN
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
            IF EXISTS (SELECT 1 FROM benefit.order_hold h WHERE h.order_ref = v_ref) THEN
                r.reason := 'order_already_held';   -- the same order held concurrently
                RETURN r;
            END IF;
            RAISE;
    END;
    r.order_ref := v_ref;
    r.held_until := hold.held_until;
    RETURN r;
END
$$;
COMMENT ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) IS
    'Prices a basket as price_basket does and, in the same call, reserves every quota unit, single-use code and promo-code use it needs until held_until (at most 7 days ahead), all or nothing: reason ok with order_ref and held_until, or the reason of the refusal (quota_exhausted, order_already_held...) with nothing written; an order reference is held once';

-- Locks the single-use codes of the given orders, in code order: callers take these locks before
-- the counters' (settle), the order every runtime call follows.
CREATE FUNCTION benefit.lock_codes(p_orders text[])
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM FROM benefit.order_code o
       JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code
      WHERE o.order_ref = ANY (p_orders)
      ORDER BY c.code
        FOR UPDATE OF c;
END
$$;
COMMENT ON FUNCTION benefit.lock_codes(text[]) IS
    'Locks the single-use codes claimed by the given orders, in code order, before their counters are touched (the common lock order: order rows, codes, counters)';

-- Moves or gives back the units of the given orders, counter by counter in lock order.
CREATE FUNCTION benefit.settle(p_orders text[], p_confirm boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT o.kind, o.owner_id, o.key, sum(o.units)::integer AS units
               FROM benefit.order_hold_counter o
              WHERE o.order_ref = ANY (p_orders)
              GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LOOP
        UPDATE benefit.counter c
           SET held = c.held - u.units,
               used = c.used + CASE WHEN p_confirm THEN u.units ELSE 0 END
         WHERE c.kind = u.kind AND c.owner_id = u.owner_id AND c.key = u.key;
    END LOOP;
END
$$;
COMMENT ON FUNCTION benefit.settle(text[], boolean) IS
    'Moves the units held by the given orders to used (confirm) or gives them back (release, expiry), locking counters in the common order';

CREATE FUNCTION benefit.release_codes(p_orders text[], p_reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT o.code, o.order_ref FROM benefit.order_code o WHERE o.order_ref = ANY (p_orders) ORDER BY o.code LOOP
        UPDATE benefit.single_use_code c SET state = 'issued', hold_order = NULL, hold_until = NULL
         WHERE c.code OPERATOR(benefit.=) k.code AND c.state = 'held' AND c.hold_order = k.order_ref;
        IF FOUND THEN
            INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, reason)
            VALUES (k.code, 'held', 'issued', k.order_ref, p_reason);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION benefit.release_codes(text[], text) IS
    'Gives the single-use codes still held by the given orders back (issued), with history';

CREATE FUNCTION benefit.confirm(order_ref text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h record;
    k record;
BEGIN
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
COMMENT ON FUNCTION benefit.confirm(text) IS
    'Makes a hold''s uses final (paid): ok (also when already confirmed), or unknown_order, already_released, hold_expired (a hold past its deadline is never confirmed: its units are given back), invalidated (an operator invalidated one of its codes; nothing changes)';

CREATE FUNCTION benefit.release(order_ref text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h record;
BEGIN
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
COMMENT ON FUNCTION benefit.release(text) IS
    'Gives back everything a hold reserved (the order was cancelled): ok (also when already released or expired), unknown_order, or already_confirmed';

CREATE FUNCTION benefit.expire_holds()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_orders text[];
BEGIN
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
    IF v_orders IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM benefit.lock_codes(v_orders);
    PERFORM benefit.settle(v_orders, false);
    PERFORM benefit.release_codes(v_orders, 'hold expired');
    RETURN cardinality(v_orders);
END
$$;
COMMENT ON FUNCTION benefit.expire_holds() IS
    'Gives back the units, codes and promo uses of holds past their deadline (at most 1,000 a call; run it every minute, e.g. with pg_cron); safe to run concurrently (SKIP LOCKED); returns how many holds expired';

CREATE VIEW benefit.benefit_usage AS
SELECT b.benefit_id,
       b.code,
       b.name,
       b.status,
       b.quota_total,
       coalesce(sum(c.held), 0)::integer AS held,
       coalesce(sum(c.used), 0)::integer AS used,
       (b.quota_total - coalesce(sum(c.held + c.used), 0))::integer AS left,
       coalesce((SELECT sum(l.quantity) FROM benefit.order_line l
                   JOIN benefit.order_hold h ON h.order_ref = l.order_ref
                  WHERE l.benefit_id = b.benefit_id AND h.state = 'confirmed'), 0)::bigint AS units_sold,
       coalesce((SELECT sum((l.base_price_cents - l.unit_price_cents) * l.quantity) FROM benefit.order_line l
                   JOIN benefit.order_hold h ON h.order_ref = l.order_ref
                  WHERE l.benefit_id = b.benefit_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents
  FROM benefit.benefit b
  LEFT JOIN benefit.counter c ON c.kind = 'benefit_slot' AND c.owner_id = b.benefit_id
 GROUP BY b.benefit_id;
COMMENT ON VIEW benefit.benefit_usage IS
    'Per benefit: total quota, units held by open holds, used by confirmed orders, left (NULL: no limit), units sold and discount given (cents, confirmed orders)';

CREATE VIEW benefit.promo_usage AS
SELECT p.promo_code_id,
       p.code,
       p.name,
       p.is_active,
       p.max_uses_total,
       coalesce(sum(c.held), 0)::integer AS held,
       coalesce(sum(c.used), 0)::integer AS used,
       (p.max_uses_total - coalesce(sum(c.held + c.used), 0))::integer AS left,
       coalesce((SELECT sum(h.promo_discount_cents) FROM benefit.order_hold h
                  WHERE h.promo_code_id = p.promo_code_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents
  FROM benefit.promo_code p
  LEFT JOIN benefit.counter c ON c.kind = 'promo_slot' AND c.owner_id = p.promo_code_id
 GROUP BY p.promo_code_id;
COMMENT ON VIEW benefit.promo_usage IS
    'Per promo code: total use limit, uses held by open holds, used by confirmed orders, left (NULL: no limit), discount given (cents, confirmed orders)';

--------------------------------------------------------------------------
-- What each check constraint means (its name says the field)
--------------------------------------------------------------------------

COMMENT ON SCHEMA benefit IS 'benefit extension: ticketing benefits, single-use and partner codes, promo codes, quotas and their reporting';

DO $comments$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT c.relname, con.conname
          FROM pg_catalog.pg_constraint con
          JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
         WHERE c.relnamespace = 'benefit'::regnamespace AND con.contype = 'c'
           AND (con.conname = c.relname || '_code_check' OR con.conname = c.relname || '_name_check')
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON CONSTRAINT %I ON benefit.%I IS %L', k.conname, k.relname,
            CASE WHEN k.conname LIKE '%\_name\_check'
                 THEN 'name must not be blank'
                 WHEN k.relname = 'promo_code'
                 THEN 'code: 3 to 64 characters, letters, digits, _ or -, starting with a letter or digit'
                 ELSE 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit'
            END);
    END LOOP;
END
$comments$;

COMMENT ON CONSTRAINT season_ends_on_check ON benefit.season IS 'ends_on must not be before starts_on';
COMMENT ON CONSTRAINT point_of_sale_channel_kind_check ON benefit.point_of_sale IS 'a point of sale belongs to a web channel';
COMMENT ON CONSTRAINT performance_ends_at_check ON benefit.performance IS 'ends_at must be after starts_at';
COMMENT ON CONSTRAINT base_price_price_cents_check ON benefit.base_price IS 'price_cents between 0 and 10^11 minor units';
COMMENT ON CONSTRAINT contact_email_check ON benefit.contact IS 'email must look like name@domain.tld';
COMMENT ON CONSTRAINT contact_language_check ON benefit.contact IS 'language is an ISO 639-1 code, optionally with a region: fr, en, de-CH';
COMMENT ON CONSTRAINT benefit_campaign_id_check ON benefit.benefit IS 'campaign_id is only for target_type contacts';
COMMENT ON CONSTRAINT benefit_indicator_level_id_check ON benefit.benefit IS 'indicator_level_id is only for target_type indicator';
COMMENT ON CONSTRAINT benefit_access_code_check ON benefit.benefit IS 'access_code is only for target_type partner';
COMMENT ON CONSTRAINT benefit_access_code_format_check ON benefit.benefit IS 'access_code: 4 to 64 letters, digits, _ or -, starting with a letter or digit';
COMMENT ON CONSTRAINT benefit_point_of_sale_id_check ON benefit.benefit IS 'point_of_sale_id is only for target_type single_use';
COMMENT ON CONSTRAINT benefit_valid_until_check ON benefit.benefit IS 'valid_until must be after valid_from';
COMMENT ON CONSTRAINT benefit_quota_total_check ON benefit.benefit IS 'quota_total must be positive (NULL: no limit)';
COMMENT ON CONSTRAINT benefit_quota_per_performance_check ON benefit.benefit IS 'quota_per_performance must be positive and not above quota_total';
COMMENT ON CONSTRAINT benefit_quota_per_contact_check ON benefit.benefit IS 'quota_per_contact must be positive and not above quota_total';
COMMENT ON CONSTRAINT benefit_quota_per_order_check ON benefit.benefit IS 'quota_per_order must be positive and not above quota_total';
COMMENT ON CONSTRAINT benefit_tariff_price_form_check ON benefit.benefit_tariff IS 'set exactly one of price_cents, amount_off_cents, percent_off';
COMMENT ON CONSTRAINT benefit_tariff_price_cents_check ON benefit.benefit_tariff IS 'price_cents between 0 and 10^11 minor units';
COMMENT ON CONSTRAINT benefit_tariff_amount_off_cents_check ON benefit.benefit_tariff IS 'amount_off_cents between 1 and 10^11 minor units';
COMMENT ON CONSTRAINT benefit_tariff_percent_off_check ON benefit.benefit_tariff IS 'percent_off more than 0 and at most 100, with at most two decimals';
COMMENT ON CONSTRAINT promo_code_discount_check ON benefit.promo_code IS 'set exactly one of percent_off, amount_off_cents';
COMMENT ON CONSTRAINT promo_code_percent_off_check ON benefit.promo_code IS 'percent_off more than 0 and at most 100, with at most two decimals';
COMMENT ON CONSTRAINT promo_code_amount_off_cents_check ON benefit.promo_code IS 'amount_off_cents between 1 and 10^11 minor units';
COMMENT ON CONSTRAINT promo_code_valid_until_check ON benefit.promo_code IS 'valid_until must be after valid_from';
COMMENT ON CONSTRAINT promo_code_min_basket_cents_check ON benefit.promo_code IS 'min_basket_cents between 0 and 10^11 minor units';
COMMENT ON CONSTRAINT promo_code_max_uses_total_check ON benefit.promo_code IS 'max_uses_total must be positive (NULL: no limit)';
COMMENT ON CONSTRAINT promo_code_max_uses_per_contact_check ON benefit.promo_code IS 'max_uses_per_contact must be positive and not above max_uses_total';

--------------------------------------------------------------------------
-- pg_dump: keep every row of every user-data table, and its sequence
--------------------------------------------------------------------------

DO $dump$
DECLARE
    t text;
    seq text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'season', 'sales_channel', 'point_of_sale', 'product_family', 'product', 'performance',
        'seat_category', 'audience', 'base_price', 'contact', 'indicator', 'indicator_level',
        'contact_indicator', 'campaign', 'campaign_target', 'benefit', 'benefit_channel',
        'benefit_tariff', 'benefit_status_history', 'promo_code', 'promo_code_channel',
        'code_batch', 'single_use_code', 'mail_outbox', 'code_history', 'ticket', 'counter',
        'order_hold', 'order_hold_counter', 'order_line', 'order_code', 'code_attempt']
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(pg_catalog.format('benefit.%I', t)::regclass, '');
        FOR seq IN
            SELECT pg_catalog.pg_get_serial_sequence(pg_catalog.format('benefit.%I', t), a.attname)
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = pg_catalog.format('benefit.%I', t)::regclass
               AND a.attidentity <> '' AND NOT a.attisdropped
        LOOP
            PERFORM pg_catalog.pg_extension_config_dump(seq::regclass, '');
        END LOOP;
    END LOOP;
END
$dump$;

--------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC; three roles
--------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA benefit FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA benefit FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA benefit FROM PUBLIC;
REVOKE ALL ON TYPE benefit.target_type, benefit.benefit_status, benefit.contact_kind, benefit.channel_kind,
    benefit.code, benefit.code_state, benefit.reason, benefit.redemption, benefit.basket_line, benefit.priced_line,
    benefit.refusal, benefit.priced_basket, benefit.hold_state, benefit.counter_kind FROM PUBLIC;
REVOKE ALL ON SCHEMA benefit FROM PUBLIC;

GRANT USAGE ON SCHEMA benefit TO benefit_admin, benefit_sales, benefit_report;
GRANT USAGE ON TYPE benefit.target_type, benefit.benefit_status, benefit.contact_kind, benefit.channel_kind,
    benefit.code, benefit.code_state, benefit.reason, benefit.redemption, benefit.basket_line, benefit.priced_line,
    benefit.refusal, benefit.priced_basket, benefit.hold_state, benefit.counter_kind
    TO benefit_admin, benefit_sales, benefit_report;

-- benefit_admin: configuration
GRANT SELECT, INSERT, UPDATE, DELETE ON
    benefit.season, benefit.sales_channel, benefit.point_of_sale, benefit.product_family, benefit.product,
    benefit.performance, benefit.seat_category, benefit.audience, benefit.base_price, benefit.contact,
    benefit.indicator, benefit.indicator_level, benefit.contact_indicator, benefit.campaign,
    benefit.campaign_target, benefit.benefit, benefit.benefit_channel, benefit.benefit_tariff,
    benefit.promo_code, benefit.promo_code_channel
    TO benefit_admin;
GRANT SELECT ON benefit.benefit_status_history, benefit.benefit_overview, benefit.code_batch,
    benefit.single_use_code TO benefit_admin;
GRANT SELECT, UPDATE (sent_at) ON benefit.mail_outbox TO benefit_admin;
GRANT EXECUTE ON FUNCTION
    benefit.list_problems(bigint), benefit.count_problems(bigint), benefit.set_status(bigint, benefit.benefit_status),
    benefit.validate(bigint), benefit.go_live(bigint), benefit.suspend(bigint), benefit.close(bigint),
    benefit.library_version(), benefit.generate_codes(bigint, bigint, integer, text, text),
    benefit.batch_codes(bigint), benefit.is_valid_code(text), benefit.invalidate_code(benefit.code, text),
    benefit.redeem_code(benefit.code, bigint, text, text, text, text)
    TO benefit_admin;
GRANT SELECT ON benefit.code_history TO benefit_admin;

-- benefit_sales: the runtime functions only
GRANT EXECUTE ON FUNCTION
    benefit.redeem_code(benefit.code, bigint, text, text, text, text), benefit.is_valid_code(text),
    benefit.hold_code(benefit.code, text, timestamptz, text, text), benefit.release_code(benefit.code, text),
    benefit.enter_code(text, text, text, bigint, text), benefit.record_ticket(text, text, bigint, benefit.code),
    benefit.ticket_scanned(text, timestamptz)
    TO benefit_sales, benefit_admin;
GRANT EXECUTE ON FUNCTION benefit.expire_code_holds() TO benefit_admin, benefit_sales;
GRANT EXECUTE ON FUNCTION
    benefit.available(bigint, text, timestamptz, text[], text, text),
    benefit.contacts_with_benefits(bigint[], text, timestamptz),
    benefit.price_basket(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text),
    benefit.price_basket(jsonb),
    benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text),
    benefit.confirm(text), benefit.release(text), benefit.expire_holds(),
    benefit.money_unit_price(bigint, bigint, bigint, bigint), benefit.money_basket_discount(bigint, bigint, bigint),
    benefit.money_allocate(bigint, bigint[])
    TO benefit_sales, benefit_admin;
GRANT SELECT ON benefit.benefit_usage, benefit.promo_usage TO benefit_report, benefit_admin;
GRANT SELECT ON benefit.order_hold, benefit.order_line TO benefit_admin;

-- benefit_report: the reporting views
GRANT SELECT ON benefit.benefit_overview, benefit.code_tracking, benefit.code_dashboard TO benefit_report;
GRANT SELECT ON benefit.code_tracking, benefit.code_dashboard, benefit.ticket TO benefit_admin;
GRANT EXECUTE ON FUNCTION benefit.count_problems(bigint) TO benefit_report;
