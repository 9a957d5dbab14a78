-- 0.2.0: wrong code entries are counted in shared memory (src/throttle.c),
-- not in a table, so that every read-only call (eligibility, pricing, the
-- code box) works on a hot standby and in a read-only transaction and still
-- throttles; every call that takes a code goes through the throttle; the
-- runtime calls that write refuse a read-only transaction with one error.

--------------------------------------------------------------------------
-- The counts in shared memory
--------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benefit.is_throttled(contact_id bigint, client_key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_is_throttled'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.is_throttled(bigint, text) IS
    '(C, src/throttle.c) True when the contact or the client key entered benefit.throttle_failures wrong codes or more within the current benefit.throttle_window, as this server counted them; false for a caller with neither';

CREATE OR REPLACE FUNCTION benefit.record_code_failures(contact_id bigint, client_key text, n integer)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_record_code_failures'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.record_code_failures(bigint, text, integer) IS
    '(C, src/throttle.c) Counts n wrong code entries against the contact and the client key, in this server''s shared memory (no write: works on a standby); a window that ended starts again; a valid code resets nothing';

CREATE FUNCTION benefit.list_code_attempts()
RETURNS TABLE (key text, window_start timestamptz, failures integer, throttled boolean)
AS 'MODULE_PATHNAME', 'benefit_list_code_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE SECURITY INVOKER ROWS 100;
COMMENT ON FUNCTION benefit.list_code_attempts() IS
    'The wrong-code counts this server holds in shared memory for this database: key (contact:<id>, or client:<md5 of the client key>), start of the window, wrong entries in it, and whether the caller is throttled now';

-- Purging is a matter of shared memory now: the same function, in C.
CREATE OR REPLACE FUNCTION benefit.purge_code_attempts()
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_purge_code_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.purge_code_attempts() IS
    'Forgets the wrong-code counts whose window (benefit.throttle_window) has ended, on this server; returns how many. Optional: a full table of counts forgets ended windows by itself';

CREATE FUNCTION benefit.forget_code_attempts(contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_forget_code_attempts'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.forget_code_attempts(bigint, text) IS
    'Forgets the wrong-code counts of a contact and of a client key on this server, so that a throttled buyer is heard again at once (both NULL: every count of this database); returns how many';

REVOKE ALL ON FUNCTION benefit.purge_code_attempts(), benefit.list_code_attempts(),
    benefit.forget_code_attempts(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.purge_code_attempts() TO benefit_admin, benefit_sales;
GRANT EXECUTE ON FUNCTION benefit.list_code_attempts(), benefit.forget_code_attempts(bigint, text) TO benefit_admin;

-- The rows of the 0.1.0 table move into shared memory (lost, with a
-- WARNING, when the library is not preloaded), then the table goes.
CREATE FUNCTION benefit.restore_code_attempt(key text, window_start timestamptz, failures integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_restore_code_attempt'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
DO $$
DECLARE
    lost integer;
BEGIN
    SELECT count(*) FILTER (WHERE NOT benefit.restore_code_attempt(a.key, a.window_start, a.failures))
      INTO lost FROM benefit.code_attempt a;
    IF lost > 0 THEN
        RAISE WARNING '% wrong-code counts were not kept: benefit is not in shared_preload_libraries', lost
              USING HINT = 'Add benefit to shared_preload_libraries and restart the server: without it, calls that throttle fail.';
    END IF;
END
$$;
DROP FUNCTION benefit.restore_code_attempt(text, timestamptz, integer);
DROP TABLE benefit.code_attempt;
DROP FUNCTION benefit.throttle_keys(bigint, text);

--------------------------------------------------------------------------
-- One error for a runtime call that writes, in a read-only transaction
--------------------------------------------------------------------------

CREATE FUNCTION benefit.require_writable(call text)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_require_writable_sql'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.require_writable(text) IS
    '(C) Raises 25006 naming the call when the transaction is read-only or the server a hot standby; the runtime functions that write call it first, so that nothing is half done';
REVOKE ALL ON FUNCTION benefit.require_writable(text) FROM PUBLIC;

--------------------------------------------------------------------------
-- The code calls: the guard, and the throttle for every call that takes a
-- code (hold_code, release_code and record_ticket take contact_id and
-- client_key like redeem_code)
--------------------------------------------------------------------------

DROP FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text);
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
    PERFORM benefit.require_writable('benefit.hold_code()');
    IF code IS NULL OR order_ref IS NULL OR hold_until IS NULL THEN
        RAISE EXCEPTION 'code, order_ref and hold_until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(order_ref) = '' OR length(order_ref) > 200 THEN
        RAISE EXCEPTION 'order_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF hold_until <= now() OR hold_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'hold_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('hold_until was %s.', hold_until);
    END IF;
    -- the references the application passes (benefit.resolve_sale, 40_json_and_strict_input.sql)
    PERFORM benefit.resolve_sale(hold_code.channel, hold_code.point_of_sale, hold_code.contact_id, false);
    IF benefit.is_throttled(hold_code.contact_id, hold_code.client_key) THEN
        RETURN 'throttled';
    END IF;
    -- the checks of redeem_code, without using the code: same reasons, same order
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) hold_code.code FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM benefit.record_code_failures(hold_code.contact_id, hold_code.client_key, 1);
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
        INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel)
        VALUES (hold_code.code, c.state, 'held', hold_code.order_ref, hold_code.contact_id, hold_code.channel);
    END IF;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text) IS
    'Holds a single-use code for an order until a deadline (at most 7 days ahead); holding again for the same order moves the deadline; returns ok or the reason, as redeem_code does (throttled when the contact or client key entered too many wrong codes; an unknown code counts as one); redeem_code by the same order then uses it; 22023 for an unknown channel or point of sale, P0002 for an unknown contact';

DROP FUNCTION benefit.release_code(benefit.code, text);
CREATE FUNCTION benefit.release_code(code benefit.code, order_ref text,
                                     contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM benefit.require_writable('benefit.release_code()');
    IF code IS NULL OR order_ref IS NULL THEN
        RAISE EXCEPTION 'code and order_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(order_ref) = '' OR length(order_ref) > 200 THEN
        RAISE EXCEPTION 'order_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM benefit.resolve_sale(NULL, NULL, release_code.contact_id, false);
    IF benefit.is_throttled(release_code.contact_id, release_code.client_key) THEN
        RETURN 'throttled';
    END IF;
    SELECT * INTO c FROM benefit.single_use_code sc
     WHERE sc.code OPERATOR(benefit.=) release_code.code FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM benefit.record_code_failures(release_code.contact_id, release_code.client_key, 1);
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

DROP FUNCTION benefit.record_ticket(text, text, bigint, benefit.code);
CREATE FUNCTION benefit.record_ticket(ticket_ref text, order_ref text, benefit_id bigint, code benefit.code DEFAULT NULL,
                                      contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM benefit.require_writable('benefit.record_ticket()');
    IF ticket_ref IS NULL OR order_ref IS NULL OR benefit_id IS NULL THEN
        RAISE EXCEPTION 'ticket_ref, order_ref and benefit_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM benefit.benefit b WHERE b.benefit_id = record_ticket.benefit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'benefit % does not exist', benefit_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM benefit.resolve_sale(NULL, NULL, record_ticket.contact_id, false);
    IF code IS NOT NULL THEN
        IF benefit.is_throttled(record_ticket.contact_id, record_ticket.client_key) THEN
            RAISE EXCEPTION 'too many wrong codes from this contact or client key lately'
                USING ERRCODE = 'VB003',
                      HINT = 'Wait until the throttle window (benefit.throttle_window) has passed.';
        END IF;
        SELECT sc.state, sc.used_order, sc.benefit_id INTO c FROM benefit.single_use_code sc
         WHERE sc.code OPERATOR(benefit.=) record_ticket.code;
        IF NOT FOUND THEN
            PERFORM benefit.record_code_failures(record_ticket.contact_id, record_ticket.client_key, 1);
            RAISE EXCEPTION 'code "%" does not exist', code USING ERRCODE = 'no_data_found';
        ELSIF c.benefit_id <> record_ticket.benefit_id THEN
            RAISE EXCEPTION 'code "%" is not a code of benefit %', code, benefit_id USING ERRCODE = 'invalid_parameter_value';
        ELSIF c.state <> 'used' OR c.used_order <> record_ticket.order_ref THEN
            RAISE EXCEPTION 'code "%" was not used for order "%"', code, order_ref
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
COMMENT ON FUNCTION benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) IS
    'Records a ticket issued through a benefit, with the single-use code that priced it (which must have been used for that order); refuses unknown benefits and codes (an unknown code counts as a wrong entry of the contact or client key; VB003 when they are throttled), an unknown contact (P0002) and a ticket recorded twice';

REVOKE ALL ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text),
    benefit.release_code(benefit.code, text, bigint, text),
    benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold_code(benefit.code, text, timestamptz, text, text, bigint, text),
    benefit.release_code(benefit.code, text, bigint, text),
    benefit.record_ticket(text, text, bigint, benefit.code, bigint, text)
    TO benefit_sales, benefit_admin;

-- The other calls that write: the guard first, bodies otherwise unchanged
-- (hold, expire_holds and expire_code_holds get it in 50_time_zone_and_isolation.sql,
-- which replaces them again).

CREATE OR REPLACE FUNCTION benefit.invalidate_code(code benefit.code, reason text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st benefit.code_state;
BEGIN
    PERFORM benefit.require_writable('benefit.invalidate_code()');
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

CREATE OR REPLACE FUNCTION benefit.ticket_scanned(ticket_ref text, at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_scan timestamptz;
BEGIN
    PERFORM benefit.require_writable('benefit.ticket_scanned()');
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
    PERFORM benefit.require_writable('benefit.confirm()');
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

CREATE OR REPLACE FUNCTION benefit.release(order_ref text)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h record;
BEGIN
    PERFORM benefit.require_writable('benefit.release()');
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
