/*
 * Benefits: a special tariff on products for some buyers under some
 * conditions; the channels it is sold on, its tariff rows (sous-grille
 * tarifaire) and the history of its status.  The lifecycle rules that guard
 * these tables are in 08_lifecycle.sql, the quota slots in 15_quotas.sql.
 * The audit columns (created_at, status_changed_at, status_changed_by,
 * revision) are written by the extension only: benefit_admin inserts and
 * updates benefits column by column.
 */

--------------------------------------------------------------------------
-- Tables
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
    units_per_code integer DEFAULT 1,
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
    CONSTRAINT benefit_units_per_code_check CHECK (units_per_code > 0),
    CONSTRAINT benefit_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id),
    CONSTRAINT benefit_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES benefit.campaign (campaign_id),
    CONSTRAINT benefit_indicator_level_id_fkey FOREIGN KEY (indicator_level_id)
        REFERENCES benefit.indicator_level (level_id),
    CONSTRAINT benefit_point_of_sale_id_fkey FOREIGN KEY (point_of_sale_id)
        REFERENCES benefit.point_of_sale (point_of_sale_id)
);
CREATE UNIQUE INDEX benefit_lower_access_code_key ON benefit.benefit (pg_catalog.lower(access_code));
CREATE INDEX benefit_season_id_idx ON benefit.benefit (season_id);
CREATE INDEX benefit_live_public_idx ON benefit.benefit (benefit_id) WHERE target_type = 'public' AND status = 'live';
CREATE INDEX benefit_campaign_id_idx ON benefit.benefit (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX benefit_indicator_level_id_idx ON benefit.benefit (indicator_level_id) WHERE indicator_level_id IS NOT NULL;
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
COMMENT ON COLUMN benefit.benefit.units_per_code IS 'single_use benefits: how many units (seats) one code unlocks, 1 by default; NULL: one code unlocks any number of units within the other quotas (redeem_code then takes 1)';
COMMENT ON CONSTRAINT benefit_units_per_code_check ON benefit.benefit IS 'units_per_code must be positive (NULL: any number)';
COMMENT ON CONSTRAINT benefit_code_check ON benefit.benefit IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT benefit_name_check ON benefit.benefit IS 'name must not be blank';
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
COMMENT ON INDEX benefit.benefit_lower_access_code_key IS 'Partner access codes are unique regardless of case';
COMMENT ON INDEX benefit.benefit_season_id_idx IS 'Benefits of a season';
COMMENT ON INDEX benefit.benefit_live_public_idx IS 'Live public benefits (available, price_basket)';
COMMENT ON INDEX benefit.benefit_campaign_id_idx IS 'Benefits of a campaign (a contact''s contacts benefits)';
COMMENT ON INDEX benefit.benefit_indicator_level_id_idx IS 'Benefits of an indicator level (a contact''s indicator benefits)';
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit_benefit_id_seq', '');
REVOKE ALL ON TABLE benefit.benefit FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.benefit_benefit_id_seq FROM PUBLIC;
GRANT SELECT, DELETE ON benefit.benefit TO benefit_admin;
GRANT INSERT (code, name, description, season_id, target_type, campaign_id, indicator_level_id, access_code,
              point_of_sale_id, valid_from, valid_until, all_channels, quota_total, quota_per_performance,
              quota_per_contact, quota_per_order, status, units_per_code),
      UPDATE (code, name, description, season_id, target_type, campaign_id, indicator_level_id, access_code,
              point_of_sale_id, valid_from, valid_until, all_channels, quota_total, quota_per_performance,
              quota_per_contact, quota_per_order, status, units_per_code)
    ON benefit.benefit TO benefit_admin;

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
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit_channel', '');
REVOKE ALL ON TABLE benefit.benefit_channel FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.benefit_channel TO benefit_admin;

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
COMMENT ON CONSTRAINT benefit_tariff_price_form_check ON benefit.benefit_tariff IS 'set exactly one of price_cents, amount_off_cents, percent_off';
COMMENT ON CONSTRAINT benefit_tariff_price_cents_check ON benefit.benefit_tariff IS 'price_cents between 0 and 10^11 minor units';
COMMENT ON CONSTRAINT benefit_tariff_amount_off_cents_check ON benefit.benefit_tariff IS 'amount_off_cents between 1 and 10^11 minor units';
COMMENT ON CONSTRAINT benefit_tariff_percent_off_check ON benefit.benefit_tariff IS 'percent_off more than 0 and at most 100, with at most two decimals';
COMMENT ON INDEX benefit.benefit_tariff_product_id_idx IS 'Tariff rows of a product';
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit_tariff', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit_tariff_tariff_id_seq', '');
REVOKE ALL ON TABLE benefit.benefit_tariff FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.benefit_tariff_tariff_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.benefit_tariff TO benefit_admin;

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
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit_status_history', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.benefit_status_history_history_id_seq', '');
REVOKE ALL ON TABLE benefit.benefit_status_history FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.benefit_status_history_history_id_seq FROM PUBLIC;
GRANT SELECT ON benefit.benefit_status_history TO benefit_admin;

--------------------------------------------------------------------------
-- Triggers
--------------------------------------------------------------------------

CREATE TRIGGER benefit_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.benefit
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER benefit_config_trg ON benefit.benefit IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER benefit_channel_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.benefit_channel
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER benefit_channel_config_trg ON benefit.benefit_channel IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER benefit_tariff_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.benefit_tariff
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER benefit_tariff_config_trg ON benefit.benefit_tariff IS 'The runtime''s configuration cache is stale after a change';
