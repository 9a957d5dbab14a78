/*
 * Promo codes: a coupon anyone who knows it may use on the whole basket,
 * under conditions, and the channels it may be used on.  Promo codes have no
 * lifecycle: what keeps one from being used is listed (as list_problems does
 * for benefits), not refused, so that a script may insert a code and its
 * channels in separate statements.  Its use slots are in 15_quotas.sql, its
 * discount in 17_pricing.sql.  The audit column created_at is written by the
 * extension only.
 *
 * Budget (max_discount_cents_total): the total discount a code may give, in
 * cents, counted exactly like its uses.  Every promo code has 16 budget slots
 * (benefit.counter, kind promo_budget), made by promo_code_spend_slots_trg
 * and spread again when the budget changes (spread_slots: raising it while
 * live works, lowering it below what is held and used is refused, 55000).
 * Every hold takes its discount in cents on them (take_promo), with or
 * without a budget, so that a budget set later counts what the code already
 * gave; confirm, release and expiry move those cents with the order's other
 * counters.  A basket whose discount is more than the budget left is refused
 * the code (promo_budget_reached), never given part of it: by price_basket
 * on the budget left when it prices, and by hold exactly, on the slots.
 * Counters are integers: a budget is at most 2147483647 cents.  The promo
 * codes of 0.2.0 get their budget slots on their first hold after the
 * upgrade (the new counter kind cannot be used in the upgrade's own
 * transaction): discounts given before 0.3.0 are not counted.
 */

--------------------------------------------------------------------------
-- Tables
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
    max_discount_cents_total bigint,
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
    CONSTRAINT promo_code_max_discount_cents_total_check CHECK (max_discount_cents_total BETWEEN 1 AND 2147483647),
    CONSTRAINT promo_code_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id),
    CONSTRAINT promo_code_indicator_level_id_fkey FOREIGN KEY (indicator_level_id)
        REFERENCES benefit.indicator_level (level_id)
);
CREATE UNIQUE INDEX promo_code_lower_code_key ON benefit.promo_code (pg_catalog.lower(code));
COMMENT ON TABLE benefit.promo_code IS 'A promo code (coupon): anyone who knows it gets a discount on the whole basket, under conditions';
COMMENT ON COLUMN benefit.promo_code.promo_code_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.promo_code.code IS 'The code buyers type; case-insensitive and unique regardless of case (3 to 64 letters, digits, _ or -)';
COMMENT ON COLUMN benefit.promo_code.name IS 'Display name';
COMMENT ON COLUMN benefit.promo_code.season_id IS
    'Season the code belongs to, for reporting (promo_usage); it does not restrict the products of the basket';
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
COMMENT ON COLUMN benefit.promo_code.max_discount_cents_total IS
    'Budget: total discount the code may give, held and confirmed orders together, in minor units, or NULL for no budget; a basket whose discount is more than the budget left is refused the code (promo_budget_reached), never given part of it';
COMMENT ON CONSTRAINT promo_code_code_check ON benefit.promo_code IS 'code: 3 to 64 characters, letters, digits, _ or -, starting with a letter or digit';
COMMENT ON CONSTRAINT promo_code_name_check ON benefit.promo_code IS 'name must not be blank';
COMMENT ON CONSTRAINT promo_code_discount_check ON benefit.promo_code IS 'set exactly one of percent_off, amount_off_cents';
COMMENT ON CONSTRAINT promo_code_percent_off_check ON benefit.promo_code IS 'percent_off more than 0 and at most 100, with at most two decimals';
COMMENT ON CONSTRAINT promo_code_amount_off_cents_check ON benefit.promo_code IS 'amount_off_cents between 1 and 10^11 minor units';
COMMENT ON CONSTRAINT promo_code_valid_until_check ON benefit.promo_code IS 'valid_until must be after valid_from';
COMMENT ON CONSTRAINT promo_code_min_basket_cents_check ON benefit.promo_code IS 'min_basket_cents between 0 and 10^11 minor units';
COMMENT ON CONSTRAINT promo_code_max_uses_total_check ON benefit.promo_code IS 'max_uses_total must be positive (NULL: no limit)';
COMMENT ON CONSTRAINT promo_code_max_uses_per_contact_check ON benefit.promo_code IS 'max_uses_per_contact must be positive and not above max_uses_total';
COMMENT ON CONSTRAINT promo_code_max_discount_cents_total_check ON benefit.promo_code IS
    'max_discount_cents_total between 1 and 2147483647 minor units, the range of the counters (NULL: no budget)';
COMMENT ON INDEX benefit.promo_code_lower_code_key IS 'Promo codes are unique regardless of case';
SELECT pg_catalog.pg_extension_config_dump('benefit.promo_code', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.promo_code_promo_code_id_seq', '');
REVOKE ALL ON TABLE benefit.promo_code FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.promo_code_promo_code_id_seq FROM PUBLIC;
GRANT SELECT, DELETE ON benefit.promo_code TO benefit_admin;
GRANT INSERT (code, name, season_id, percent_off, amount_off_cents, valid_from, valid_until, all_channels,
              min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact, is_active,
              max_discount_cents_total),
      UPDATE (code, name, season_id, percent_off, amount_off_cents, valid_from, valid_until, all_channels,
              min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact, is_active,
              max_discount_cents_total)
    ON benefit.promo_code TO benefit_admin;

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
SELECT pg_catalog.pg_extension_config_dump('benefit.promo_code_channel', '');
REVOKE ALL ON TABLE benefit.promo_code_channel FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.promo_code_channel TO benefit_admin;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

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
      FROM p, benefit_internal.list_validity_problems(p.valid_from, p.valid_until, p.starts_on, p.ends_on) v
$$;
COMMENT ON FUNCTION benefit.list_promo_problems(bigint) IS
    'What keeps a promo code from being used anywhere: one row per problem, naming the field (no channel, both channel forms, validity ended or outside its season); no rows when it is complete or unknown';
REVOKE ALL ON FUNCTION benefit.list_promo_problems(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.list_promo_problems(bigint) TO benefit_admin;

CREATE FUNCTION benefit.count_promo_problems(p_promo_code_id bigint)
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT count(*) FROM benefit.list_promo_problems(p_promo_code_id);
END;
COMMENT ON FUNCTION benefit.count_promo_problems(bigint) IS
    'How many problems keep a promo code from being used (for the reporting view, which must not show their details)';
REVOKE ALL ON FUNCTION benefit.count_promo_problems(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.count_promo_problems(bigint) TO benefit_admin, benefit_report;

--------------------------------------------------------------------------
-- Reserving a use
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.take_promo(p_order text, p_promo_id bigint, p_contact_id bigint,
                                            p_discount_cents bigint)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_budget bigint;
BEGIN
    -- counters in the common lock order: the promo code's use slots, its per-contact counter,
    -- then its budget slots
    IF NOT benefit_internal.take_slots(p_order, 'promo_slot', p_promo_id, 1) THEN
        RETURN 'promo_limit_reached';
    END IF;
    IF p_contact_id IS NOT NULL AND NOT benefit_internal.take_limited(
            p_order, 'promo_contact', p_promo_id, p_contact_id, 1,
            coalesce((SELECT pc.max_uses_per_contact FROM benefit.promo_code pc WHERE pc.promo_code_id = p_promo_id),
                     2147483647)) THEN
        RETURN 'promo_contact_limit_reached';
    END IF;
    IF p_discount_cents > 0 THEN
        SELECT pc.max_discount_cents_total INTO v_budget FROM benefit.promo_code pc WHERE pc.promo_code_id = p_promo_id;
        IF p_discount_cents > 2147483647 THEN
            IF v_budget IS NOT NULL THEN
                RETURN 'promo_budget_reached';     -- more than any budget can be
            END IF;
            RAISE EXCEPTION 'promo discount of % cents is more than a promo code can count', p_discount_cents
                  USING ERRCODE = 'program_limit_exceeded',
                        DETAIL = 'A promo code counts the discount of one basket up to 2147483647 cents.';
        END IF;
        IF NOT benefit_internal.take_slots(p_order, 'promo_budget', p_promo_id, p_discount_cents::integer) THEN
            -- no budget slot at all: a promo code of 0.2.0 never edited since; make them and take again
            IF v_budget IS NULL
               AND NOT EXISTS (SELECT 1 FROM benefit.counter c WHERE c.kind = 'promo_budget' AND c.owner_id = p_promo_id)
            THEN
                PERFORM benefit_internal.spread_slots('promo_budget', p_promo_id, NULL);
                IF benefit_internal.take_slots(p_order, 'promo_budget', p_promo_id, p_discount_cents::integer) THEN
                    RETURN NULL;
                END IF;
            END IF;
            RETURN 'promo_budget_reached';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.take_promo(text, bigint, bigint, bigint) IS
    'Reserves one use of a promo code for an order (its total limit, then the contact''s own) and the basket''s discount of p_discount_cents on its budget: NULL when reserved, else the reason (the caller rolls back what it reserved)';
REVOKE ALL ON FUNCTION benefit_internal.take_promo(text, bigint, bigint, bigint) FROM PUBLIC;

CREATE FUNCTION benefit_internal.spread_promo_budget()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM benefit_internal.spread_slots('promo_budget', NEW.promo_code_id, NEW.max_discount_cents_total::integer);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.spread_promo_budget() IS
    'Trigger: keeps the budget slots of a promo code in step with max_discount_cents_total (spread_slots; below the cents already held or used: 55000)';
REVOKE ALL ON FUNCTION benefit_internal.spread_promo_budget() FROM PUBLIC;

--------------------------------------------------------------------------
-- Triggers
--------------------------------------------------------------------------

-- Named to fire after promo_code_slots_trg (triggers fire by name): an edit of both limits
-- locks the use slots before the budget slots, the order every hold locks them in.
CREATE TRIGGER promo_code_spend_slots_trg
    AFTER INSERT OR UPDATE OF max_discount_cents_total ON benefit.promo_code
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.spread_promo_budget();
COMMENT ON TRIGGER promo_code_spend_slots_trg ON benefit.promo_code IS
    'Creates the budget slots of a new promo code and spreads them again when max_discount_cents_total changes';

CREATE TRIGGER promo_code_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.promo_code
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER promo_code_config_trg ON benefit.promo_code IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER promo_code_channel_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.promo_code_channel
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER promo_code_channel_config_trg ON benefit.promo_code_channel IS 'The runtime''s configuration cache is stale after a change';
