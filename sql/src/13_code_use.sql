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

CREATE FUNCTION benefit_internal.check_code_use(state benefit.code_state, hold_order text, hold_until timestamptz,
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
COMMENT ON FUNCTION benefit_internal.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text) IS
    'The rules of using a single-use code, in the order redeem_code applies them (state, hold, benefit live, validity, channel, point of sale): ok or the reason';
REVOKE ALL ON FUNCTION benefit_internal.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text) FROM PUBLIC;

CREATE FUNCTION benefit.redeem_code(code benefit.code, contact_id bigint, order_ref text,
                                    channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                    client_key text DEFAULT NULL)
RETURNS benefit.redemption
AS 'MODULE_PATHNAME', 'benefit_redeem_code'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.redeem_code(benefit.code, bigint, text, text, text, text) IS
    'Checks and uses a single-use code for an order in one call: returns reason ok exactly once per code, whatever the concurrency, or why not (unknown_code, already_used, invalidated, held_by_other_order, benefit_not_live, not_yet_valid, expired, wrong_channel, wrong_point_of_sale); contact_id NULL for an anonymous buyer; channel and point_of_sale are sales-channel and point-of-sale codes (NULL: not checked). Its statements run with pg_catalog as the only schema searched, pinned in C rather than by a SET clause';
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
    c record;
    r benefit.reason;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.hold_code()');
    IF code IS NULL OR order_ref IS NULL OR hold_until IS NULL THEN
        RAISE EXCEPTION 'code, order_ref and hold_until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM benefit_internal.check_order_ref(order_ref);
    IF hold_until <= now() OR hold_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'hold_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('hold_until was %s.', hold_until);
    END IF;
    -- the references the application passes (benefit_internal.resolve_sale, 12_runtime_input.sql)
    PERFORM benefit_internal.resolve_sale(hold_code.channel, hold_code.point_of_sale, hold_code.contact_id, false);
    IF benefit_internal.is_throttled(hold_code.contact_id, hold_code.client_key) THEN
        RETURN 'throttled';
    END IF;
    -- the checks of redeem_code, without using the code: same reasons, same order
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) hold_code.code FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM benefit_internal.record_code_failures(hold_code.contact_id, hold_code.client_key, 1);
        RETURN 'unknown_code';
    END IF;
    r := benefit_internal.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, hold_code.order_ref,
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
REVOKE ALL ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.release_code(code benefit.code, order_ref text,
                                     contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
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
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) release_code.code FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM benefit_internal.record_code_failures(release_code.contact_id, release_code.client_key, 1);
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
REVOKE ALL ON FUNCTION benefit.release_code(benefit.code, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.release_code(benefit.code, text, bigint, text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.expire_code_holds()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    n bigint := 0;
    k record;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.expire_code_holds()');
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
REVOKE ALL ON FUNCTION benefit.invalidate_code(benefit.code, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.invalidate_code(benefit.code, text) TO benefit_admin;

CREATE FUNCTION benefit.enter_code(code text, channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
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
    SELECT * INTO v_sale FROM benefit_internal.resolve_sale(enter_code.channel, enter_code.point_of_sale, enter_code.contact_id, false);
    IF (enter_code.contact_id IS NOT NULL OR enter_code.client_key IS NOT NULL)
       AND benefit_internal.is_throttled(enter_code.contact_id, enter_code.client_key) THEN
        RETURN QUERY SELECT 'unknown'::text, 'throttled'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    SELECT r.kind, r.benefit_id, r.code INTO v_read FROM benefit_internal.read_codes(ARRAY[enter_code.code]) r;
    IF v_read.kind = 'single_use' THEN
        SELECT sc.*, bb.code AS bcode, bb.name AS bname INTO c
          FROM benefit.single_use_code sc JOIN benefit.benefit bb ON bb.benefit_id = sc.benefit_id
         WHERE sc.code OPERATOR(benefit.=) v_read.code;
        IF NOT FOUND THEN
            PERFORM benefit_internal.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
            RETURN QUERY SELECT 'single_use'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        ELSE
            RETURN QUERY SELECT 'single_use'::text,
                                benefit_internal.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, NULL,
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
        PERFORM benefit_internal.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
        RETURN QUERY SELECT 'unknown'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
    END IF;
END
$$;
COMMENT ON FUNCTION benefit.enter_code(text, text, text, bigint, text) IS
    'The web "Code avantage" box and the box-office Avantages button: reads the text typed as every entry point does (benefit_internal.read_codes: a partner access code first, then a single-use code), says which benefit it unlocks and whether it can be used now (reason); never raises for what a buyer types (22023 / P0002 for an unknown channel, point of sale or contact the application passes); uses nothing';
REVOKE ALL ON FUNCTION benefit.enter_code(text, text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.enter_code(text, text, text, bigint, text) TO benefit_sales, benefit_admin;
