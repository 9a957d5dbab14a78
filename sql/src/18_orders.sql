/*
 * Orders: hold a priced basket (every quota unit, single-use code and promo
 * use it needs, all or nothing, until a deadline), confirm it (paid), release
 * it (cancelled), expire the holds past their deadline; what each hold
 * reserved, so that confirm and release move exactly that.
 *
 * Under REPEATABLE READ and SERIALIZABLE a transaction sees the rows of its
 * snapshot, and locking or updating a row that another transaction changed
 * since fails with 40001.  A caller gets a business reason or that clean
 * 40001 (retry the transaction), never another error; the maintenance jobs
 * skip what another call decided since their snapshot instead of failing.
 * READ COMMITTED callers take the same paths, at the same cost.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.hold_state AS ENUM ('held', 'confirmed', 'released', 'expired', 'refunded');
COMMENT ON TYPE benefit.hold_state IS
    'State of an order: held (units reserved until held_until), confirmed (uses final), released (given back by the order), expired (given back at the deadline), refunded (confirmed, then wholly refunded)';
REVOKE ALL ON TYPE benefit.hold_state FROM PUBLIC;
GRANT USAGE ON TYPE benefit.hold_state TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

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
    kind        text NOT NULL DEFAULT 'basket',
    CONSTRAINT order_hold_pkey PRIMARY KEY (order_ref),
    CONSTRAINT order_hold_closed_check CHECK ((state = 'held') = (closed_at IS NULL)),
    CONSTRAINT order_hold_kind_check CHECK (kind IN ('basket', 'codes'))
) WITH (fillfactor = 70);
-- No index on a column that changes (state, held_until, closed_at): every update of an order stays
-- HOT.  The open holds are found through benefit.order_open (22_order_maintenance.sql).
CREATE INDEX order_hold_created_at_idx ON benefit.order_hold (created_at);
COMMENT ON TABLE benefit.order_hold IS
    'One row per order put on hold by benefit.hold: its state, deadline and priced totals; an order reference is held once (README), until purge_orders deletes the closed order; fillfactor 70 and no index on a changing column, so that updates stay HOT (open holds by deadline: benefit.order_open)';
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
COMMENT ON COLUMN benefit.order_hold.kind IS 'basket: held by benefit.hold with priced lines; codes: single-use codes held or used by hold_code and redeem_code, without lines';
COMMENT ON CONSTRAINT order_hold_kind_check ON benefit.order_hold IS 'an order is a basket or a codes order';
COMMENT ON CONSTRAINT order_hold_closed_check ON benefit.order_hold IS 'an open hold has no closing time, a closed one has one';
COMMENT ON INDEX benefit.order_hold_created_at_idx IS 'Orders by creation time (never updated), for purge_orders';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_hold', '');
REVOKE ALL ON TABLE benefit.order_hold FROM PUBLIC;
GRANT SELECT ON benefit.order_hold TO benefit_admin;

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
SELECT pg_catalog.pg_extension_config_dump('benefit.order_hold_counter', '');
REVOKE ALL ON TABLE benefit.order_hold_counter FROM PUBLIC;

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
SELECT pg_catalog.pg_extension_config_dump('benefit.order_line', '');
REVOKE ALL ON TABLE benefit.order_line FROM PUBLIC;
GRANT SELECT ON benefit.order_line TO benefit_admin;

CREATE TABLE benefit.order_code (
    order_ref   text NOT NULL,
    code        benefit.code NOT NULL,
    units       integer,
    CONSTRAINT order_code_pkey PRIMARY KEY (order_ref, code),
    CONSTRAINT order_code_units_check CHECK (units > 0),
    CONSTRAINT order_code_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref)
) WITH (fillfactor = 90);
COMMENT ON TABLE benefit.order_code IS 'The single-use codes each hold claimed (fillfactor 90: room for an update to stay HOT)';
COMMENT ON COLUMN benefit.order_code.order_ref IS 'The order';
COMMENT ON COLUMN benefit.order_code.code IS 'The code';
COMMENT ON COLUMN benefit.order_code.units IS 'Units of its benefit the code covers in the order (NULL: a code of a benefit without units_per_code, covering every unit of its benefit in the basket)';
COMMENT ON CONSTRAINT order_code_units_check ON benefit.order_code IS 'units must be positive';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_code', '');
REVOKE ALL ON TABLE benefit.order_code FROM PUBLIC;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

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
            v_reason := benefit_internal.take_promo(v_ref, p.promo_id, hold.contact_id, r.promo_discount_cents);
            IF v_reason IS NOT NULL THEN
                RAISE EXCEPTION '%', v_reason USING ERRCODE = 'VB001';
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
COMMENT ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) IS
    'Prices a basket as price_basket does and, in the same call, reserves every quota unit, single-use code and promo-code use it needs until held_until (at most 7 days ahead), all or nothing: reason ok with order_ref and held_until, or the reason of the refusal (quota_exhausted, order_already_held...) with nothing written; an order reference is held once';
REVOKE ALL ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) TO benefit_sales, benefit_admin;

-- Locks the single-use codes of the given orders, in code order: callers take these locks before
-- the counters' (settle), the order every runtime call follows.
CREATE FUNCTION benefit_internal.lock_codes(p_orders text[])
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
COMMENT ON FUNCTION benefit_internal.lock_codes(text[]) IS
    'Locks the single-use codes claimed by the given orders, in code order, before their counters are touched (the common lock order: order rows, codes, counters)';
REVOKE ALL ON FUNCTION benefit_internal.lock_codes(text[]) FROM PUBLIC;

-- Moves or gives back the units of the given orders, counter by counter in lock order.
CREATE FUNCTION benefit_internal.settle(p_orders text[], p_confirm boolean)
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
COMMENT ON FUNCTION benefit_internal.settle(text[], boolean) IS
    'Moves the units held by the given orders to used (confirm) or gives them back (release, expiry), locking counters in the common order';
REVOKE ALL ON FUNCTION benefit_internal.settle(text[], boolean) FROM PUBLIC;

CREATE FUNCTION benefit_internal.release_codes(p_orders text[], p_reason text)
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
COMMENT ON FUNCTION benefit_internal.release_codes(text[], text) IS
    'Gives the single-use codes still held by the given orders back (issued), with history';
REVOKE ALL ON FUNCTION benefit_internal.release_codes(text[], text) FROM PUBLIC;

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
COMMENT ON FUNCTION benefit.confirm(text) IS
    'Makes a hold''s uses final (paid): ok (also when already confirmed), or unknown_order, already_released, hold_expired (a hold past its deadline is never confirmed: its units are given back), invalidated (an operator invalidated one of its codes; nothing changes)';
REVOKE ALL ON FUNCTION benefit.confirm(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.confirm(text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.release(order_ref text)
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
COMMENT ON FUNCTION benefit.release(text) IS
    'Gives back everything a hold reserved (the order was cancelled): ok (also when already released or expired), unknown_order, or already_confirmed';
REVOKE ALL ON FUNCTION benefit.release(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.release(text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.expire_holds()
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
        -- due holds found by deadline in benefit.order_open; a hold closed or given a later
        -- deadline since the statement began is rechecked on its order row, and left
        WITH due AS (
            SELECT o.order_ref FROM benefit.order_open p
              JOIN benefit.order_hold o ON o.order_ref = p.order_ref
             WHERE p.held_until < clock_timestamp()
               AND o.state = 'held' AND o.held_until < clock_timestamp()
             ORDER BY p.held_until
             LIMIT 1000
               FOR UPDATE OF o SKIP LOCKED
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
        FOR v_ref IN SELECT p.order_ref FROM benefit.order_open p
                      WHERE p.held_until < clock_timestamp()
                      ORDER BY p.held_until
                      LIMIT 1000 LOOP
            BEGIN
                PERFORM FROM benefit.order_hold o
                  WHERE o.order_ref = v_ref AND o.state = 'held' AND o.held_until < clock_timestamp()
                    FOR UPDATE SKIP LOCKED;
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
COMMENT ON FUNCTION benefit.expire_holds() IS
    'Gives back the units, codes and promo uses of holds past their deadline (at most 1,000 a call, found by deadline in benefit.order_open; run it every minute, e.g. with pg_cron); safe to run concurrently: a hold being confirmed or released right now (SKIP LOCKED), or closed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, is skipped; returns how many holds expired';
REVOKE ALL ON FUNCTION benefit.expire_holds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.expire_holds() TO benefit_sales, benefit_admin;
