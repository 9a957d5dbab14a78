-- 0.3.0, orders (sql/src/18_orders.sql): the functions whose body names a moved
-- helper.

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
    PERFORM benefit_internal.require_writable('benefit.hold()');
    PERFORM benefit_internal.check_order_ref(v_ref);
    IF hold.held_until IS NULL OR hold.held_until <= now() OR hold.held_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'held_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('held_until was %s.', coalesce(hold.held_until::text, 'NULL'));
    END IF;
    p := benefit_internal.price_guarded(hold.lines, hold.contact_id, hold.channel, hold.point_of_sale, now(), hold.codes,
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
            IF NOT benefit_internal.take_slots(v_ref, 'benefit_slot', u.benefit_id, u.units) THEN
                RAISE EXCEPTION 'quota_exhausted' USING ERRCODE = 'VB001';
            END IF;
        END LOOP;
        FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, (x ->> 'performance_id')::bigint AS performance_id,
                        sum((x ->> 'units')::integer)::integer AS units, b.quota_per_performance AS lim
                   FROM jsonb_array_elements(p.uses) x
                   JOIN benefit.benefit b ON b.benefit_id = (x ->> 'benefit_id')::bigint
                  WHERE x ->> 'performance_id' IS NOT NULL
                  GROUP BY 1, 2, 4 ORDER BY 1, 2 LOOP
            IF NOT benefit_internal.take_limited(v_ref, 'benefit_performance', u.benefit_id, u.performance_id, u.units, u.lim) THEN
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
                IF NOT benefit_internal.take_limited(v_ref, 'benefit_contact', u.benefit_id, hold.contact_id, u.units, u.lim) THEN
                    RAISE EXCEPTION 'contact_quota_exhausted' USING ERRCODE = 'VB001';
                END IF;
            END LOOP;
        END IF;
        IF p.promo_id IS NOT NULL THEN
            IF NOT benefit_internal.take_slots(v_ref, 'promo_slot', p.promo_id, 1) THEN
                RAISE EXCEPTION 'promo_limit_reached' USING ERRCODE = 'VB001';
            END IF;
            IF hold.contact_id IS NOT NULL AND NOT benefit_internal.take_limited(
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
    PERFORM benefit_internal.require_writable('benefit.confirm()');
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
        PERFORM benefit_internal.lock_codes(ARRAY[h.order_ref]);
        PERFORM benefit_internal.settle(ARRAY[h.order_ref], false);
        PERFORM benefit_internal.release_codes(ARRAY[h.order_ref], 'hold expired');
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
    PERFORM benefit_internal.settle(ARRAY[h.order_ref], true);
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
    PERFORM benefit_internal.require_writable('benefit.release()');
    SELECT * INTO h FROM benefit.order_hold o WHERE o.order_ref = release.order_ref FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown_order';
    ELSIF h.state = 'confirmed' THEN
        RETURN 'already_confirmed';
    ELSIF h.state <> 'held' THEN
        RETURN 'ok';                                -- already given back
    END IF;
    PERFORM benefit_internal.lock_codes(ARRAY[h.order_ref]);
    PERFORM benefit_internal.settle(ARRAY[h.order_ref], false);
    PERFORM benefit_internal.release_codes(ARRAY[h.order_ref], 'order released');
    UPDATE benefit.order_hold o SET state = 'released', closed_at = now(), closed_by = SESSION_USER
     WHERE o.order_ref = h.order_ref;
    RETURN 'ok';
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
    PERFORM benefit_internal.require_writable('benefit.expire_holds()');
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
    PERFORM benefit_internal.lock_codes(v_orders);
    PERFORM benefit_internal.settle(v_orders, false);
    PERFORM benefit_internal.release_codes(v_orders, 'hold expired');
    RETURN cardinality(v_orders);
END
$$;
