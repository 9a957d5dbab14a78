-- 0.3.0, tickets (sql/src/14_tickets.sql): the functions whose body names a
-- moved helper.

CREATE OR REPLACE FUNCTION benefit.record_ticket(ticket_ref text, order_ref text, benefit_id bigint, code benefit.code DEFAULT NULL,
                                      contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.record_ticket()');
    IF ticket_ref IS NULL OR order_ref IS NULL OR benefit_id IS NULL THEN
        RAISE EXCEPTION 'ticket_ref, order_ref and benefit_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM benefit.benefit b WHERE b.benefit_id = record_ticket.benefit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'benefit % does not exist', benefit_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM benefit_internal.resolve_sale(NULL, NULL, record_ticket.contact_id, false);
    IF code IS NOT NULL THEN
        IF benefit_internal.is_throttled(record_ticket.contact_id, record_ticket.client_key) THEN
            RAISE EXCEPTION 'too many wrong codes from this contact or client key lately'
                USING ERRCODE = 'VB003',
                      HINT = 'Wait until the throttle window (benefit.throttle_window) has passed.';
        END IF;
        SELECT sc.state, sc.used_order, sc.benefit_id INTO c FROM benefit.single_use_code sc
         WHERE sc.code OPERATOR(benefit.=) record_ticket.code;
        IF NOT FOUND THEN
            PERFORM benefit_internal.record_code_failures(record_ticket.contact_id, record_ticket.client_key, 1);
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

CREATE OR REPLACE FUNCTION benefit.ticket_scanned(ticket_ref text, at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_scan timestamptz;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.ticket_scanned()');
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
