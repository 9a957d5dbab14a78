/*
 * Tickets: the tickets issued through a benefit (with the single-use code
 * that priced them), their scan at access control, and their refund
 * (benefit.refund, sql/src/18_refunds.sql, marks the tickets of the units it
 * gives back; ticket_scanned refuses them).
 */

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.ticket (
    ticket_ref  text NOT NULL,
    order_ref   text NOT NULL,
    benefit_id  bigint NOT NULL,
    code        benefit.code,
    issued_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    scanned_at  timestamptz,
    refunded_at timestamptz,
    refund_ref  text,
    CONSTRAINT ticket_pkey PRIMARY KEY (ticket_ref),
    CONSTRAINT ticket_ticket_ref_check CHECK (btrim(ticket_ref) <> '' AND length(ticket_ref) <= 200),
    CONSTRAINT ticket_benefit_id_fkey FOREIGN KEY (benefit_id) REFERENCES benefit.benefit (benefit_id),
    CONSTRAINT ticket_code_fkey FOREIGN KEY (code) REFERENCES benefit.single_use_code (code),
    CONSTRAINT ticket_refund_check CHECK ((refunded_at IS NULL) = (refund_ref IS NULL))
);
CREATE INDEX ticket_code_idx ON benefit.ticket (code);
CREATE INDEX ticket_benefit_id_idx ON benefit.ticket (benefit_id);
CREATE INDEX ticket_order_ref_idx ON benefit.ticket (order_ref);
COMMENT ON TABLE benefit.ticket IS 'Tickets issued through a benefit (and the single-use code that priced them), and their scan at access control';
COMMENT ON COLUMN benefit.ticket.ticket_ref IS 'The ticketing system''s ticket reference (barcode)';
COMMENT ON COLUMN benefit.ticket.order_ref IS 'Order the ticket was sold in';
COMMENT ON COLUMN benefit.ticket.benefit_id IS 'Benefit that priced the ticket';
COMMENT ON COLUMN benefit.ticket.code IS 'Single-use code that unlocked the benefit, if any';
COMMENT ON COLUMN benefit.ticket.issued_at IS 'When the ticket was issued';
COMMENT ON COLUMN benefit.ticket.scanned_at IS 'First scan at access control, NULL while not scanned';
COMMENT ON COLUMN benefit.ticket.refunded_at IS 'When a refund of its order gave its unit back (benefit.refund), NULL while not refunded; a refunded ticket is refused at access control';
COMMENT ON COLUMN benefit.ticket.refund_ref IS 'The refund that gave its unit back (benefit.order_refund), NULL while not refunded';
COMMENT ON CONSTRAINT ticket_refund_check ON benefit.ticket IS 'a refunded ticket has a refund time and a refund reference, and only a refunded one has them';
COMMENT ON CONSTRAINT ticket_ticket_ref_check ON benefit.ticket IS 'ticket_ref must be 1 to 200 characters, not blank';
COMMENT ON INDEX benefit.ticket_code_idx IS 'Tickets of a code';
COMMENT ON INDEX benefit.ticket_benefit_id_idx IS 'Tickets of a benefit';
COMMENT ON INDEX benefit.ticket_order_ref_idx IS 'Tickets of an order (refund marks them)';
SELECT pg_catalog.pg_extension_config_dump('benefit.ticket', '');
REVOKE ALL ON TABLE benefit.ticket FROM PUBLIC;
GRANT SELECT ON benefit.ticket TO benefit_admin;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.record_ticket(ticket_ref text, order_ref text, benefit_id bigint, code benefit.code DEFAULT NULL,
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
COMMENT ON FUNCTION benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) IS
    'Records a ticket issued through a benefit, with the single-use code that priced it (which must have been used for that order); refuses unknown benefits and codes (an unknown code counts as a wrong entry of the contact or client key; VB003 when they are throttled), an unknown contact (P0002) and a ticket recorded twice';
REVOKE ALL ON FUNCTION benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.record_ticket(text, text, bigint, benefit.code, bigint, text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.ticket_scanned(ticket_ref text, at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ticket record;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.ticket_scanned()');
    IF ticket_ref IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'ticket_ref and at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT k.scanned_at, k.refunded_at, k.refund_ref, k.order_ref INTO v_ticket
      FROM benefit.ticket k WHERE k.ticket_ref = ticket_scanned.ticket_ref FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticket "%" is not a ticket issued through a benefit', ticket_ref USING ERRCODE = 'no_data_found';
    END IF;
    IF v_ticket.refunded_at IS NOT NULL THEN
        -- never let a refunded ticket in (reason ticket_refunded), scanned before or not
        RAISE EXCEPTION 'ticket "%" was refunded', ticket_ref USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = format('Refund "%s" of order "%s" gave its unit back at %s.', v_ticket.refund_ref, v_ticket.order_ref, v_ticket.refunded_at),
              HINT = 'Refuse entry: the ticket is no longer valid (ticket_refunded).';
    END IF;
    IF v_ticket.scanned_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE benefit.ticket t SET scanned_at = ticket_scanned.at WHERE t.ticket_ref = ticket_scanned.ticket_ref;
    RETURN true;
END
$$;
COMMENT ON FUNCTION benefit.ticket_scanned(text, timestamptz) IS
    'Records the scan of a ticket at access control: true for the first scan, false when it was already scanned (the first time is kept); a refunded ticket is refused with 55000 (ticket_refunded), whether scanned before or not';
REVOKE ALL ON FUNCTION benefit.ticket_scanned(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.ticket_scanned(text, timestamptz) TO benefit_sales, benefit_admin;
