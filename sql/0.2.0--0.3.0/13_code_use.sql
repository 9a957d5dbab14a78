-- 0.3.0, using single-use codes (sql/src/13_code_use.sql): the functions whose
-- body or comment names a moved helper.

CREATE OR REPLACE FUNCTION benefit.hold_code(code benefit.code, order_ref text, hold_until timestamptz,
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

CREATE OR REPLACE FUNCTION benefit.release_code(code benefit.code, order_ref text,
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

CREATE OR REPLACE FUNCTION benefit.expire_code_holds()
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

CREATE OR REPLACE FUNCTION benefit.invalidate_code(code benefit.code, reason text)
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

CREATE OR REPLACE FUNCTION benefit.enter_code(code text, channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
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
