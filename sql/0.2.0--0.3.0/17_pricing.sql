-- 0.3.0, pricing (sql/src/17_pricing.sql): the functions whose body or comment
-- names a moved helper.

CREATE OR REPLACE FUNCTION benefit_internal.price_guarded(lines benefit.basket_line[], contact_id bigint, channel text,
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
    IF v_keyed AND cardinality(v_entered) > 0 AND benefit_internal.is_throttled(price_guarded.contact_id, price_guarded.client_key) THEN
        p := benefit_internal.price(price_guarded.lines, price_guarded.contact_id, price_guarded.channel,
                           price_guarded.point_of_sale, price_guarded.at, NULL, price_guarded.promo_code);
        price_guarded.result := p.result;
        price_guarded.result.refusals := (p.result).refusals
            || ARRAY(SELECT ROW(NULL, NULL, NULL, e, 'throttled')::benefit.refusal FROM unnest(v_entered) e);
    ELSE
        p := benefit_internal.price(price_guarded.lines, price_guarded.contact_id, price_guarded.channel,
                           price_guarded.point_of_sale, price_guarded.at, price_guarded.codes, price_guarded.promo_code);
        price_guarded.result := p.result;
        SELECT count(*) INTO v_unknown FROM unnest((p.result).refusals) r WHERE r.reason = 'unknown_code';
        IF v_keyed AND v_unknown > 0 THEN
            PERFORM benefit_internal.record_code_failures(price_guarded.contact_id, price_guarded.client_key, v_unknown);
        END IF;
    END IF;
    price_guarded.uses := p.uses;
    price_guarded.promo_id := p.promo_id;
END
$$;

COMMENT ON FUNCTION benefit_internal.price_guarded(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) IS
    'benefit_internal.price with the throttling of wrong code entries (used by price_basket and hold)';

CREATE OR REPLACE FUNCTION benefit.price_basket(lines benefit.basket_line[], contact_id bigint, channel text,
                                     point_of_sale text DEFAULT NULL, at timestamptz DEFAULT NULL,
                                     codes text[] DEFAULT NULL, promo_code text DEFAULT NULL,
                                     client_key text DEFAULT NULL)
RETURNS benefit.priced_basket
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (benefit_internal.price_guarded(price_basket.lines, price_basket.contact_id, price_basket.channel,
                                  price_basket.point_of_sale, price_basket.at, price_basket.codes,
                                  price_basket.promo_code, price_basket.client_key)).result
$$;
