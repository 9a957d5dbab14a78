/*
 * Using single-use codes: the rules of using one (check_code_use, in the
 * order redeem_code applies them), redeeming in one call, holding for an
 * order and giving back, expiring holds, invalidating, the "Code avantage"
 * box (enter_code), and the history of every change of state.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.redemption AS (
    reason      benefit.reason,
    code        benefit.code,
    benefit_id  bigint,
    benefit_code text,
    used_at     timestamptz
);
COMMENT ON TYPE benefit.redemption IS
    'Result of benefit.redeem_code: the reason (ok or why not), the code, its benefit and, when ok, the time of use';
REVOKE ALL ON TYPE benefit.redemption FROM PUBLIC;
GRANT USAGE ON TYPE benefit.redemption TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

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
SELECT pg_catalog.pg_extension_config_dump('benefit.code_history', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.code_history_history_id_seq', '');
REVOKE ALL ON TABLE benefit.code_history FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.code_history_history_id_seq FROM PUBLIC;
GRANT SELECT ON benefit.code_history TO benefit_admin;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.use_reason(code_state text, held_by_this_order boolean, hold_until timestamptz,
                                            benefit_live boolean, valid_from timestamptz, valid_until timestamptz,
                                            channel_given boolean, on_channel boolean, web_channel boolean,
                                            benefit_pos_set boolean, pos_matches boolean,
                                            total_left bigint, contact_left bigint, units integer, at timestamptz)
RETURNS benefit.reason
AS 'MODULE_PATHNAME', 'benefit_use_reason'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION benefit_internal.use_reason(text, boolean, timestamptz, boolean, timestamptz, timestamptz, boolean, boolean, boolean, boolean, boolean, bigint, bigint, integer, timestamptz) IS
    '(C, src/use_rule.c) The one rule of using a single-use code or a benefit, from the facts the caller read: ok or the first refusal (invalidated, already_used, held_by_other_order, benefit_not_live, not_yet_valid, expired, wrong_channel, wrong_point_of_sale, quota_exhausted, contact_quota_exhausted), judged at the instant at; a NULL limit or window is not checked';
REVOKE ALL ON FUNCTION benefit_internal.use_reason(text, boolean, timestamptz, boolean, timestamptz, timestamptz, boolean, boolean, boolean, boolean, boolean, bigint, bigint, integer, timestamptz) FROM PUBLIC;

CREATE FUNCTION benefit_internal.check_code_use(state benefit.code_state, hold_order text, hold_until timestamptz,
                                                benefit_id bigint, order_ref text, channel text, point_of_sale text,
                                                contact_id bigint, units integer, at timestamptz)
RETURNS benefit.reason
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    b record;
    v_channel_id bigint;
    v_kind benefit.channel_kind;
    q record;
BEGIN
    SELECT bb.status, bb.valid_from, bb.valid_until, bb.all_channels, bb.point_of_sale_id INTO b
      FROM benefit.benefit bb WHERE bb.benefit_id = check_code_use.benefit_id;
    IF channel IS NOT NULL THEN
        SELECT sc.channel_id, sc.kind INTO v_channel_id, v_kind FROM benefit.sales_channel sc WHERE sc.code = channel;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'sales channel "%" does not exist', channel USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    q := benefit_internal.units_left(check_code_use.benefit_id, check_code_use.contact_id);
    RETURN benefit_internal.use_reason(
        state::text, order_ref IS NOT NULL AND hold_order IS NOT DISTINCT FROM order_ref, hold_until,
        b.status = 'live', b.valid_from, b.valid_until,
        channel IS NOT NULL,
        b.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                   WHERE bc.benefit_id = check_code_use.benefit_id AND bc.channel_id = v_channel_id),
        v_kind = 'web', b.point_of_sale_id IS NOT NULL,
        b.point_of_sale_id IS NOT DISTINCT FROM (SELECT p.point_of_sale_id FROM benefit.point_of_sale p
                                                  WHERE p.code = point_of_sale),
        q.total_left, q.contact_left, units, at);
END
$$;
COMMENT ON FUNCTION benefit_internal.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text, bigint, integer, timestamptz) IS
    'Reads the facts of using a single-use code (its benefit, the channel, the quota left) and applies the one rule, benefit_internal.use_reason, at the call''s instant: ok or the reason; a code held by order_ref counts as free (and its units as reserved)';
REVOKE ALL ON FUNCTION benefit_internal.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text, bigint, integer, timestamptz) FROM PUBLIC;

CREATE FUNCTION benefit.redeem_code(code benefit.code, contact_id bigint, order_ref text,
                                    channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                    client_key text DEFAULT NULL)
RETURNS benefit.redemption
AS 'MODULE_PATHNAME', 'benefit_redeem_order'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.redeem_code(benefit.code, bigint, text, text, text, text) IS
    '(C, src/redeem.c) Uses a single-use code for an order in one call, a hold and confirm of a codes order (the common case in C, everything else through benefit_internal.code_order): takes the code''s units (units_per_code, 1 when NULL) on its benefit''s total quota and the contact''s limit; returns reason ok exactly once per code, whatever the concurrency, or why not (unknown_code, already_used, invalidated, held_by_other_order, benefit_not_live, not_yet_valid, expired, wrong_channel, wrong_point_of_sale, quota_exhausted, contact_quota_exhausted, order_already_held when order_ref is a basket, throttled); contact_id NULL for an anonymous buyer; channel and point_of_sale are sales-channel and point-of-sale codes (NULL: not checked)';
REVOKE ALL ON FUNCTION benefit.redeem_code(benefit.code, bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.redeem_code(benefit.code, bigint, text, text, text, text) TO benefit_admin, benefit_sales;

CREATE FUNCTION benefit.hold_code(code benefit.code, order_ref text, hold_until timestamptz,
                                  channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                  contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    PERFORM benefit_internal.require_writable('benefit.hold_code()');
    IF code IS NULL OR order_ref IS NULL OR hold_until IS NULL THEN
        RAISE EXCEPTION 'code, order_ref and hold_until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM benefit_internal.check_order_ref(order_ref);
    IF hold_until <= v_now OR hold_until > v_now + interval '7 days' THEN
        RAISE EXCEPTION 'hold_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('hold_until was %s, the call''s instant %s.', hold_until, v_now);
    END IF;
    -- the references the application passes (benefit_internal.resolve_sale, 12_runtime_input.sql)
    PERFORM benefit_internal.resolve_sale(hold_code.channel, hold_code.point_of_sale, hold_code.contact_id, false);
    RETURN (benefit_internal.code_order(hold_code.code, hold_code.order_ref, hold_code.hold_until, hold_code.channel,
                                        hold_code.point_of_sale, hold_code.contact_id, hold_code.client_key, false,
                                        v_now)).reason;
END
$$;
COMMENT ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) IS
    'Holds a single-use code for a codes order until a deadline (after the call''s instant, at most 7 days ahead), reserving its units (benefit_internal.code_order); holding again for the same order moves the order''s deadline; benefit.hold of the same order reference then takes the code over, redeem_code or confirm uses it; returns ok or the reason, as redeem_code does (already_confirmed for a confirmed order); 22023 for an unknown channel or point of sale, P0002 for an unknown contact';
REVOKE ALL ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.release_code(code benefit.code, order_ref text,
                                     contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    o record;
    c record;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.release_code()');
    IF code IS NULL OR order_ref IS NULL THEN
        RAISE EXCEPTION 'code and order_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM benefit_internal.check_order_ref(order_ref);
    PERFORM benefit_internal.resolve_sale(NULL, NULL, release_code.contact_id, false);
    IF benefit_internal.is_throttled(release_code.contact_id, release_code.client_key) THEN
        RETURN 'throttled';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM benefit.single_use_code sc WHERE sc.code OPERATOR(benefit.=) release_code.code) THEN
        PERFORM benefit_internal.record_code_failures(release_code.contact_id, release_code.client_key, 1);
        RETURN 'unknown_code';
    END IF;
    -- the common lock order: the order row, then the code, then counters
    SELECT * INTO o FROM benefit.order_hold h WHERE h.order_ref = release_code.order_ref FOR UPDATE;
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) release_code.code FOR UPDATE;
    IF c.state = 'used' THEN
        RETURN 'already_used';
    ELSIF c.state = 'invalidated' THEN
        RETURN 'invalidated';
    ELSIF c.state = 'held' AND c.hold_order <> release_code.order_ref AND c.hold_until >= v_now THEN
        RETURN 'held_by_other_order';
    ELSIF c.state = 'issued' OR c.hold_order <> release_code.order_ref THEN
        RETURN 'ok';                -- nothing held by this order: releasing is idempotent
    ELSIF o.kind = 'basket' THEN
        RETURN 'order_already_held';    -- a basket's code goes with the basket: benefit.release
    END IF;
    PERFORM benefit_internal.give_back_code(release_code.order_ref, release_code.code, 'order released', v_now);
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.release_code(benefit.code, text, bigint, text) IS
    'Gives back a code held by a codes order (back to issued, its units given back; the order is released when no code is left); idempotent; refuses with held_by_other_order, already_used, invalidated, order_already_held (a code held by a basket goes with benefit.release of the basket), unknown_code (counted as a wrong entry) or throttled; P0002 for an unknown contact';
REVOKE ALL ON FUNCTION benefit.release_code(benefit.code, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.release_code(benefit.code, text, bigint, text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.expire_code_holds()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_before bigint;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.expire_code_holds()');
    -- a code hold is an order hold: expire_holds gives back every order past its deadline,
    -- codes orders and baskets alike; this counts the codes it gave back
    SELECT count(*) INTO v_before FROM benefit.single_use_code c WHERE c.state = 'held';
    PERFORM benefit.expire_holds();
    RETURN v_before - (SELECT count(*) FROM benefit.single_use_code c WHERE c.state = 'held');
END
$$;
COMMENT ON FUNCTION benefit.expire_code_holds() IS
    'Gives back every order hold past its deadline (benefit.expire_holds: codes orders and baskets alike, their codes back to issued with a history row each, their units given back); returns how many codes were given back; safe to run concurrently';
REVOKE ALL ON FUNCTION benefit.expire_code_holds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.expire_code_holds() TO benefit_admin, benefit_sales;

CREATE FUNCTION benefit.invalidate_code(code benefit.code, reason text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st benefit.code_state;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.invalidate_code()');
    IF btrim(reason) = '' THEN
        RAISE EXCEPTION 'a reason is required to invalidate a code'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the row lock orders this call with any redemption of the same code
    SELECT c.state INTO st FROM benefit.single_use_code c
     WHERE c.code OPERATOR(benefit.=) invalidate_code.code FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown_code';
    ELSIF st = 'used' THEN
        RETURN 'already_used';
    ELSIF st = 'invalidated' THEN
        RETURN 'invalidated';
    END IF;
    UPDATE benefit.single_use_code c
       SET state = 'invalidated', invalidated_at = clock_timestamp(), invalidated_by = session_user,
           invalidated_reason = invalidate_code.reason, hold_order = NULL, hold_until = NULL
     WHERE c.code OPERATOR(benefit.=) invalidate_code.code;
    INSERT INTO benefit.code_history (code, from_state, to_state, reason)
    VALUES (invalidate_code.code, st, 'invalidated', invalidate_code.reason);
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.invalidate_code(benefit.code, text) IS
    'Operator invalidation of an issued or held code (who, when and why recorded); returns ok, or already_used / invalidated / unknown_code when it cannot';
REVOKE ALL ON FUNCTION benefit.invalidate_code(benefit.code, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.invalidate_code(benefit.code, text) TO benefit_admin;

CREATE FUNCTION benefit.enter_code(code text, channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                              contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS TABLE (kind text, reason benefit.reason, benefit_id bigint, benefit_code text, benefit_name text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_sale record;
    v_read record;
    c record;
    b record;
    q record;
BEGIN
    -- what the application passes is checked; what the buyer types never raises
    SELECT * INTO v_sale FROM benefit_internal.resolve_sale(enter_code.channel, enter_code.point_of_sale, enter_code.contact_id, false);
    IF (enter_code.contact_id IS NOT NULL OR enter_code.client_key IS NOT NULL)
       AND benefit_internal.is_throttled(enter_code.contact_id, enter_code.client_key) THEN
        RETURN QUERY SELECT 'unknown'::text, 'throttled'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    SELECT r.kind, r.benefit_id, r.code INTO v_read FROM benefit_internal.read_codes(ARRAY[enter_code.code]) r;
    IF v_read.kind = 'single_use' THEN
        SELECT sc.*, bb.code AS bcode, bb.name AS bname, coalesce(bb.units_per_code, 1) AS units INTO c
          FROM benefit.single_use_code sc JOIN benefit.benefit bb ON bb.benefit_id = sc.benefit_id
         WHERE sc.code OPERATOR(benefit.=) v_read.code;
        IF NOT FOUND THEN
            PERFORM benefit_internal.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
            RETURN QUERY SELECT 'single_use'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        ELSE
            RETURN QUERY SELECT 'single_use'::text,
                                benefit_internal.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, NULL,
                                                       enter_code.channel, enter_code.point_of_sale,
                                                       enter_code.contact_id, c.units, v_now),
                                c.benefit_id, c.bcode, c.bname;
        END IF;
    ELSIF v_read.kind = 'partner' THEN
        SELECT bb.benefit_id, bb.code, bb.name, bb.status, bb.valid_from, bb.valid_until, bb.all_channels INTO b
          FROM benefit.benefit bb WHERE bb.benefit_id = v_read.benefit_id;
        q := benefit_internal.units_left(b.benefit_id, enter_code.contact_id);
        RETURN QUERY SELECT 'partner'::text,
            benefit_internal.use_reason(
                NULL, false, NULL, b.status = 'live', b.valid_from, b.valid_until,
                v_sale.channel_id IS NOT NULL,
                b.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                           WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_sale.channel_id),
                false, false, false, q.total_left, q.contact_left, 1, v_now),
            b.benefit_id, b.code, b.name;
    ELSE
        PERFORM benefit_internal.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
        RETURN QUERY SELECT 'unknown'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
    END IF;
END
$$;
COMMENT ON FUNCTION benefit.enter_code(text, text, text, bigint, text) IS
    'The web "Code avantage" box and the box-office Avantages button: reads the text typed as every entry point does (benefit_internal.read_codes: a partner access code first, then a single-use code), says which benefit it unlocks and whether it can be used now (reason); never raises for what a buyer types (22023 / P0002 for an unknown channel, point of sale or contact the application passes); uses nothing';
REVOKE ALL ON FUNCTION benefit.enter_code(text, text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.enter_code(text, text, text, bigint, text) TO benefit_sales, benefit_admin;
