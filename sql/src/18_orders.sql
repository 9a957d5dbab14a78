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
    channel     text,
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
    'One row per order of the ledger: a basket held by benefit.hold, or a codes order of hold_code and redeem_code; its kind, state, deadline and priced totals; an order reference is held once (README), until purge_orders deletes the closed order; fillfactor 70 and no index on a changing column, so that updates stay HOT (open holds by deadline: benefit.order_open)';
COMMENT ON COLUMN benefit.order_hold.order_ref IS 'The application''s order reference';
COMMENT ON COLUMN benefit.order_hold.state IS 'held, confirmed, released, expired or refunded';
COMMENT ON COLUMN benefit.order_hold.contact_id IS 'The buyer, NULL for an anonymous buyer';
COMMENT ON COLUMN benefit.order_hold.channel IS 'Sales channel code of the hold (NULL: a code call that named no channel)';
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
AS 'MODULE_PATHNAME', 'benefit_hold'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) IS
    '(C, src/order.c) Prices a basket as price_basket does and, in the same call, reserves every quota unit, single-use code and promo-code use it needs until held_until (after the call''s instant, at most 7 days ahead), all or nothing: reason ok with order_ref and held_until, or the reason of the refusal (quota_exhausted, order_already_held...) with nothing written; an order reference is held once, except the codes order of hold_code, which the basket takes over (its codes count as entered)';
REVOKE ALL ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold(text, benefit.basket_line[], bigint, text, timestamptz, text[], text, text, text) TO benefit_sales, benefit_admin;

-- Closes an order: confirmed (its held units and codes used) or given back (released,
-- expired), in the common lock order.  The order row is locked by the caller.
CREATE FUNCTION benefit_internal.settle_order(p_order text, p_to benefit.hold_state, p_reason text, p_now timestamptz)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_settle_order_sql'
LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION benefit_internal.settle_order(text, benefit.hold_state, text, timestamptz) IS
    '(C, src/order.c) Closes a held order (its row locked by the caller), basket or codes order alike: confirmed (held units and codes used) or released / expired (given back, codes back to issued with the reason), in the common lock order; p_now is the call''s instant';
REVOKE ALL ON FUNCTION benefit_internal.settle_order(text, benefit.hold_state, text, timestamptz) FROM PUBLIC;

-- Expires the order whose hold of a code has passed its deadline, before another order takes
-- the code, so that the ledger and the counters never count the code twice.
CREATE FUNCTION benefit_internal.expire_hold_of(p_code benefit.code, p_now timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_order text;
BEGIN
    SELECT c.hold_order INTO v_order FROM benefit.single_use_code c
     WHERE c.code OPERATOR(benefit.=) p_code AND c.state = 'held' AND c.hold_until < p_now;
    IF v_order IS NULL THEN
        RETURN;
    END IF;
    -- out of the common lock order (an order row after a code), so never waiting: an order
    -- being closed right now is left to that call
    PERFORM FROM benefit.order_hold h
      WHERE h.order_ref = v_order AND h.state = 'held' AND h.held_until < p_now FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        PERFORM benefit_internal.settle_order(v_order, 'expired', 'hold expired', p_now);
    END IF;
END
$$;
COMMENT ON FUNCTION benefit_internal.expire_hold_of(benefit.code, timestamptz) IS
    'Expires, at the call''s instant, the order whose hold of this code has passed its deadline (code locked by the caller; the order row tried without waiting), so that another order takes the code and its units are counted once';
REVOKE ALL ON FUNCTION benefit_internal.expire_hold_of(benefit.code, timestamptz) FROM PUBLIC;

-- Why an order may not be confirmed because of its codes: NULL, or the reason (an operator
-- invalidated one); locks its codes in code order.
CREATE FUNCTION benefit_internal.order_codes_reason(p_order text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT c.code, c.state, c.hold_order FROM benefit.order_code o
               JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code
              WHERE o.order_ref = p_order ORDER BY c.code FOR UPDATE OF c LOOP
        IF k.state <> 'held' OR k.hold_order IS DISTINCT FROM p_order THEN
            RETURN CASE k.state WHEN 'invalidated' THEN 'invalidated' WHEN 'used' THEN 'already_used'
                                ELSE 'held_by_other_order' END;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.order_codes_reason(text) IS
    'Why a held order may not be confirmed because of its codes: NULL when every code is still held by it, else invalidated (an operator invalidated one), already_used or held_by_other_order; locks the codes in code order; confirm and redeem_code into a held codes order apply it';
REVOKE ALL ON FUNCTION benefit_internal.order_codes_reason(text) FROM PUBLIC;

-- Reserves the units of one single-use code for a codes order.
CREATE FUNCTION benefit_internal.take_code_units(p_order text, p_benefit_id bigint, p_contact_id bigint, p_units integer)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_limit integer;
    v_per_order integer;
BEGIN
    SELECT b.quota_per_contact, b.quota_per_order INTO v_limit, v_per_order
      FROM benefit.benefit b WHERE b.benefit_id = p_benefit_id;
    -- the per-order limit counts the units the order already has of the benefit
    IF v_per_order IS NOT NULL
       AND p_units + coalesce((SELECT sum(oc.units) FROM benefit.order_hold_counter oc
                                WHERE oc.order_ref = p_order AND oc.kind = 'benefit_slot'
                                  AND oc.owner_id = p_benefit_id), 0) > v_per_order THEN
        RETURN 'quota_exhausted';
    END IF;
    -- counters in the common lock order: the benefit's slots, then its per-contact counter
    IF NOT benefit_internal.take_slots(p_order, 'benefit_slot', p_benefit_id, p_units) THEN
        RETURN 'quota_exhausted';
    END IF;
    IF p_contact_id IS NOT NULL THEN
        IF v_limit IS NOT NULL
           AND NOT benefit_internal.take_limited(p_order, 'benefit_contact', p_benefit_id, p_contact_id, p_units, v_limit) THEN
            RETURN 'contact_quota_exhausted';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.take_code_units(text, bigint, bigint, integer) IS
    'Reserves the units of a single-use code for a codes order within its benefit''s per-order limit (the units the order has already counted), on its total quota slots and the contact''s counter: NULL when reserved, else the reason (the caller rolls back what it reserved)';
REVOKE ALL ON FUNCTION benefit_internal.take_code_units(text, bigint, bigint, integer) FROM PUBLIC;

-- Gives back one code of a held codes order: its units, then the code.
CREATE FUNCTION benefit_internal.give_back_code(p_order text, p_code benefit.code, p_reason text, p_now timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v record;
    k record;
    v_slots integer;
    v_contact integer;
    n integer;
BEGIN
    SELECT oc.units, c.benefit_id, h.contact_id INTO v
      FROM benefit.order_code oc
      JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) oc.code
      JOIN benefit.order_hold h ON h.order_ref = oc.order_ref
     WHERE oc.order_ref = p_order AND oc.code OPERATOR(benefit.=) p_code;
    v_slots := coalesce(v.units, 0);
    v_contact := coalesce(v.units, 0);
    -- the code's units off the order's counter rows of its benefit, in the common lock order
    FOR k IN SELECT oc.kind, oc.key, oc.units FROM benefit.order_hold_counter oc
              WHERE oc.order_ref = p_order AND oc.owner_id = v.benefit_id
                AND oc.kind IN ('benefit_slot', 'benefit_contact')
              ORDER BY oc.kind, oc.key LOOP
        IF k.kind = 'benefit_slot' THEN
            n := least(k.units, v_slots);
            v_slots := v_slots - n;
        ELSE
            n := least(k.units, v_contact);
            v_contact := v_contact - n;
        END IF;
        CONTINUE WHEN n = 0;
        UPDATE benefit.counter c SET held = c.held - n
         WHERE c.kind = k.kind AND c.owner_id = v.benefit_id AND c.key = k.key;
        IF n = k.units THEN
            DELETE FROM benefit.order_hold_counter oc
             WHERE oc.order_ref = p_order AND oc.kind = k.kind AND oc.owner_id = v.benefit_id AND oc.key = k.key;
        ELSE
            UPDATE benefit.order_hold_counter oc SET units = oc.units - n
             WHERE oc.order_ref = p_order AND oc.kind = k.kind AND oc.owner_id = v.benefit_id AND oc.key = k.key;
        END IF;
    END LOOP;
    UPDATE benefit.single_use_code c SET state = 'issued', hold_order = NULL, hold_until = NULL
     WHERE c.code OPERATOR(benefit.=) p_code;
    INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, reason)
    VALUES (p_code, 'held', 'issued', p_now, p_order, v.contact_id, p_reason);
    DELETE FROM benefit.order_code oc WHERE oc.order_ref = p_order AND oc.code OPERATOR(benefit.=) p_code;
    IF NOT EXISTS (SELECT 1 FROM benefit.order_code oc WHERE oc.order_ref = p_order) THEN
        UPDATE benefit.order_hold h SET state = 'released', closed_at = p_now, closed_by = SESSION_USER
         WHERE h.order_ref = p_order;
    END IF;
END
$$;
COMMENT ON FUNCTION benefit_internal.give_back_code(text, benefit.code, text, timestamptz) IS
    'Gives back one code of a held codes order (order row and code locked by the caller): its units off the order''s counters, the code back to issued with a history row; the order is released when no code is left';
REVOKE ALL ON FUNCTION benefit_internal.give_back_code(text, benefit.code, text, timestamptz) FROM PUBLIC;

-- Moves the deadline of a held codes order and of the codes it holds.
CREATE FUNCTION benefit_internal.move_deadline(p_order text, p_until timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    UPDATE benefit.order_hold h SET held_until = p_until WHERE h.order_ref = p_order;
    -- the order's codes found by code (no index on hold_order)
    UPDATE benefit.single_use_code sc SET hold_until = p_until
     WHERE sc.state = 'held' AND sc.hold_order = p_order
       AND sc.code OPERATOR(benefit.=) ANY (ARRAY(SELECT oc.code FROM benefit.order_code oc
                                                  WHERE oc.order_ref = p_order));
END
$$;
COMMENT ON FUNCTION benefit_internal.move_deadline(text, timestamptz) IS
    'Moves the deadline of a held codes order (its row locked by the caller) and of the codes it holds: hold_code again for the same order';
REVOKE ALL ON FUNCTION benefit_internal.move_deadline(text, timestamptz) FROM PUBLIC;

-- A code call as an order: hold_code (p_confirm false) and redeem_code (p_confirm true).
CREATE FUNCTION benefit_internal.code_order(p_code benefit.code, p_order text, p_until timestamptz, p_channel text,
                                            p_pos text, p_contact bigint, p_key text, p_confirm boolean,
                                            p_now timestamptz)
RETURNS benefit.redemption
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    r benefit.redemption;
    o record;
    c record;
    b record;
    v_found boolean;
    v_units integer;
    v_reason benefit.reason;
    v_before jsonb;
    v_constraint text;
BEGIN
    r.code := p_code;
    IF benefit_internal.is_throttled(p_contact, p_key) THEN
        r.reason := 'throttled';
        RETURN r;
    END IF;
    SELECT sc.benefit_id INTO c FROM benefit.single_use_code sc WHERE sc.code OPERATOR(benefit.=) p_code;
    IF NOT FOUND THEN
        PERFORM benefit_internal.record_code_failures(p_contact, p_key, 1);
        r.reason := 'unknown_code';
        RETURN r;
    END IF;
    SELECT bb.code, bb.units_per_code INTO b FROM benefit.benefit bb WHERE bb.benefit_id = c.benefit_id;
    r.benefit_id := c.benefit_id;
    r.benefit_code := b.code;
    v_units := coalesce(b.units_per_code, 1);

    -- the common lock order: the order row, the code, then counters
    SELECT * INTO o FROM benefit.order_hold h WHERE h.order_ref = p_order FOR UPDATE;
    v_found := FOUND;
    IF v_found AND (o.kind = 'basket' OR o.state = 'refunded') THEN
        r.reason := 'order_already_held';      -- a basket's codes are used by benefit.confirm
        RETURN r;
    ELSIF v_found AND o.state IN ('held', 'confirmed') AND o.contact_id <> p_contact THEN
        RAISE EXCEPTION 'order "%" is an order of another buyer', p_order USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('The order was made for contact %s; this call names contact %s.', o.contact_id, p_contact);
    ELSIF v_found AND o.state IN ('held', 'confirmed') AND o.contact_id IS NOT NULL THEN
        p_contact := o.contact_id;              -- a call naming no buyer acts for the order's buyer
    ELSIF v_found AND o.state IN ('held', 'confirmed') AND p_contact IS NOT NULL THEN
        -- an anonymous order gets the buyer a later call names: that call's units count for them
        UPDATE benefit.order_hold h SET contact_id = p_contact WHERE h.order_ref = p_order;
    END IF;
    IF v_found AND o.state = 'held' AND o.held_until < p_now THEN
        -- past its deadline: expired now, as expire_holds would
        PERFORM benefit_internal.settle_order(p_order, 'expired', 'hold expired', p_now);
        o.state := 'expired';
    END IF;
    SELECT * INTO c FROM benefit.single_use_code sc WHERE sc.code OPERATOR(benefit.=) p_code FOR UPDATE;
    IF c.state = 'held' AND c.hold_order <> p_order AND c.hold_until < p_now THEN
        PERFORM benefit_internal.expire_hold_of(p_code, p_now);
        SELECT * INTO c FROM benefit.single_use_code sc WHERE sc.code OPERATOR(benefit.=) p_code;
    END IF;
    v_reason := benefit_internal.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, p_order,
                                                p_channel, p_pos, p_contact, v_units, p_now);
    IF v_reason <> 'ok' THEN
        r.reason := v_reason;
        RETURN r;
    ELSIF v_found AND o.state = 'confirmed' AND NOT p_confirm THEN
        r.reason := 'already_confirmed';
        RETURN r;
    END IF;

    IF c.state = 'held' AND c.hold_order = p_order THEN
        -- this order holds the code: redeem_code confirms the order, hold_code moves its deadline
        IF p_confirm THEN
            v_reason := benefit_internal.order_codes_reason(p_order);
            IF v_reason IS NOT NULL THEN
                r.reason := v_reason;               -- as confirm answers: nothing changes
                RETURN r;
            END IF;
            PERFORM benefit_internal.settle_order(p_order, 'confirmed', NULL, p_now);
            r.used_at := p_now;
        ELSE
            PERFORM benefit_internal.move_deadline(p_order, p_until);
        END IF;
        r.reason := 'ok';
        RETURN r;
    END IF;

    -- redeem_code into a held codes order confirms it, as confirm would: not with a code an
    -- operator invalidated since (nothing changes)
    IF p_confirm AND v_found AND o.state = 'held' THEN
        v_reason := benefit_internal.order_codes_reason(p_order);
        IF v_reason IS NOT NULL THEN
            r.reason := v_reason;
            RETURN r;
        END IF;
    END IF;

    -- a new use of the code by this order, all or nothing
    BEGIN
        IF NOT v_found THEN
            -- a redemption's order is confirmed at once: never an open hold
            INSERT INTO benefit.order_hold (order_ref, kind, state, contact_id, channel, point_of_sale, held_until,
                                            base_cents, lines_cents, promo_discount_cents, total_cents, created_at,
                                            closed_at, closed_by)
            VALUES (p_order, 'codes', CASE WHEN p_confirm THEN 'confirmed' ELSE 'held' END::benefit.hold_state,
                    p_contact, p_channel, p_pos, coalesce(p_until, p_now), 0, 0, 0, 0, p_now,
                    CASE WHEN p_confirm THEN p_now END, CASE WHEN p_confirm THEN SESSION_USER END);
            o.state := CASE WHEN p_confirm THEN 'confirmed' ELSE 'held' END;
        ELSIF o.state IN ('released', 'expired') THEN
            -- a closed codes order used again starts afresh: what it reserved was given back
            DELETE FROM benefit.order_hold_counter oc WHERE oc.order_ref = p_order;
            DELETE FROM benefit.order_code oc WHERE oc.order_ref = p_order;
            UPDATE benefit.order_hold h
               SET state = 'held', held_until = coalesce(p_until, p_now), closed_at = NULL, closed_by = NULL,
                   contact_id = p_contact, channel = p_channel, point_of_sale = p_pos
             WHERE h.order_ref = p_order;
            o.state := 'held';
        ELSIF o.state = 'held' AND NOT p_confirm THEN
            PERFORM benefit_internal.move_deadline(p_order, p_until);
        END IF;
        INSERT INTO benefit.order_code (order_ref, code, units) VALUES (p_order, p_code, v_units);
        IF o.state = 'confirmed' THEN
            SELECT jsonb_object_agg(oc.kind || ':' || oc.key, oc.units) INTO v_before
              FROM benefit.order_hold_counter oc WHERE oc.order_ref = p_order AND oc.owner_id = c.benefit_id;
        END IF;
        v_reason := benefit_internal.take_code_units(p_order, c.benefit_id, p_contact, v_units);
        IF v_reason IS NOT NULL THEN
            RAISE EXCEPTION '%', v_reason USING ERRCODE = 'VB001';
        END IF;
        IF NOT p_confirm THEN
            UPDATE benefit.single_use_code sc SET state = 'held', hold_order = p_order, hold_until = p_until
             WHERE sc.code OPERATOR(benefit.=) p_code;
            INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel)
            VALUES (p_code, c.state, 'held', p_now, p_order, p_contact, p_channel);
        ELSE
            UPDATE benefit.single_use_code sc
               SET state = 'used', used_at = p_now, used_by_contact = p_contact, used_order = p_order,
                   hold_order = NULL, hold_until = NULL
             WHERE sc.code OPERATOR(benefit.=) p_code;
            INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel)
            VALUES (p_code, c.state, 'used', p_now, p_order, p_contact, p_channel);
            IF o.state = 'confirmed' THEN
                -- a confirmed order: the units just reserved are used at once
                UPDATE benefit.counter ct SET held = ct.held - d.n, used = ct.used + d.n
                  FROM (SELECT oc.kind, oc.key,
                               oc.units - coalesce((v_before ->> (oc.kind || ':' || oc.key))::integer, 0) AS n
                          FROM benefit.order_hold_counter oc
                         WHERE oc.order_ref = p_order AND oc.owner_id = c.benefit_id) d
                 WHERE ct.kind = d.kind AND ct.owner_id = c.benefit_id AND ct.key = d.key AND d.n > 0;
            ELSE
                PERFORM benefit_internal.settle_order(p_order, 'confirmed', NULL, p_now);
            END IF;
            r.used_at := p_now;
        END IF;
        r.reason := 'ok';
    EXCEPTION
        WHEN SQLSTATE 'VB001' THEN
            r.reason := SQLERRM::benefit.reason;    -- everything above is rolled back
            r.used_at := NULL;
        WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint = 'order_hold_pkey' THEN
                RAISE EXCEPTION 'order "%" was created by a concurrent call', p_order
                      USING ERRCODE = 'serialization_failure', HINT = 'Retry the transaction.';
            END IF;
            RAISE;
    END;
    RETURN r;
END
$$;
COMMENT ON FUNCTION benefit_internal.code_order(benefit.code, text, timestamptz, text, text, bigint, text, boolean, timestamptz) IS
    'hold_code (p_confirm false) and redeem_code (p_confirm true) as orders of kind codes: the code checked by the one rule (check_code_use), its units (units_per_code, 1 when NULL) reserved on its benefit''s total quota and the contact''s limit, the code held by the order until p_until, or used with the whole order confirmed (a confirmed codes order takes the code used at once); a basket order refuses with order_already_held; all or nothing; 40001 when a concurrent call created the same new order; an existing order of another contact is 22023, a call naming no contact acts for the order''s contact, an anonymous order gets the contact a later call names';
REVOKE ALL ON FUNCTION benefit_internal.code_order(benefit.code, text, timestamptz, text, text, bigint, text, boolean, timestamptz) FROM PUBLIC;

CREATE FUNCTION benefit.confirm(order_ref text)
RETURNS benefit.reason
AS 'MODULE_PATHNAME', 'benefit_confirm'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.confirm(text) IS
    '(C, src/order.c) Makes a hold''s uses final (paid), basket or codes order: ok (also when already confirmed), or unknown_order, already_released, hold_expired (a hold past its deadline at the call''s instant is never confirmed: its units are given back), invalidated (an operator invalidated one of its codes; nothing changes); a hold is a promise until its deadline: a benefit suspended or closed, a lost indicator level or a promo code switched off since do not undo it';
REVOKE ALL ON FUNCTION benefit.confirm(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.confirm(text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.release(order_ref text)
RETURNS benefit.reason
AS 'MODULE_PATHNAME', 'benefit_release'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.release(text) IS
    '(C, src/order.c) Gives back everything a hold reserved (the order was cancelled), basket or codes order: ok (also when already released or expired), unknown_order, or already_confirmed';
REVOKE ALL ON FUNCTION benefit.release(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.release(text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.expire_holds()
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_expire_holds'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.expire_holds() IS
    '(C, src/order.c) Gives back the units, codes and promo uses of holds past their deadline (at most 1,000 a call, found by deadline in benefit.order_open; run it every minute, e.g. with pg_cron); safe to run concurrently: a hold being confirmed or released right now (SKIP LOCKED), or closed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, is skipped; returns how many holds expired';
REVOKE ALL ON FUNCTION benefit.expire_holds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.expire_holds() TO benefit_sales, benefit_admin;
