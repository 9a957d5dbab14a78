/*
 * Refunds: benefit.refund gives back, after payment, what a confirmed order
 * used, for the whole order or for some units of some of its lines, and
 * records each refund under the application's refund reference.
 *
 * The rules (README, "Refunds"):
 *   - Only a confirmed order is refunded: unknown_order, not_confirmed (held,
 *     released, expired, or already wholly refunded).
 *   - Idempotent per refund reference: the same call again answers ok and
 *     changes nothing; the same reference for another order or other lines
 *     is an error (22023).  Asking more units than a line has left, an
 *     unknown line, a quantity under 1: 22023 naming the line.  Every check
 *     comes before the first write: a refused refund writes nothing.
 *   - Quota units: the refunded units of a line are given back on the very
 *     counter rows the order reserved (order_hold_counter): its benefit's
 *     total-quota slots (taken greedily, by key), its performance's counter,
 *     the order's contact's counter; order_refund_counter records how many
 *     units each refund gave back on each row, so that refunds together never
 *     give back more than the order used.  The per-order quota has no counter.
 *   - The refund that leaves nothing to refund (all units of all lines; a
 *     codes order, which has no lines, is only refunded whole) gives back
 *     everything the order still holds on every counter, the promo code's use
 *     (and any other promo counter) included, and the order becomes refunded.
 *     A partial refund never gives the promo use back.
 *   - Single-use codes: a code returns to issued (used_at, used_by_contact,
 *     used_order cleared; code_history 'used' -> 'issued', reason 'refunded'),
 *     so that its holder may use it again, as soon as the units of its
 *     benefit still sold in the order are covered by the order's other codes
 *     of that benefit; codes are given back from the highest code down.  A
 *     code without units (it covers every unit of its benefit in the order)
 *     returns when all of them are refunded.
 *   - Tickets: the refund marks as refunded as many of the order's tickets of
 *     the benefit as it refunds units of it, choosing the tickets of the codes
 *     it gives back first, then unscanned before scanned, then the most
 *     recently issued; the refund that completes the order marks every
 *     ticket of the order still valid.  ticket_scanned refuses them.
 *   - Locks: the order row (updated by every refund, so that concurrent
 *     refunds of one order run one after the other, and a REPEATABLE READ or
 *     SERIALIZABLE caller that missed another gets 40001), its codes (by
 *     code), then counter rows (by kind, owner, key): the lock order of
 *     confirm and release.
 *
 * benefit.refund runs in C (src/refund.c; what it gives back is decided in
 * src/refund_rule.c): the order row locked, one read of everything the
 * checks need, the codes locked when the order has some, then one write
 * statement once every check has passed.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.refund_line AS (
    line_no     integer,
    quantity    integer
);
COMMENT ON TYPE benefit.refund_line IS
    'A line of a refund: the line number of the order (order_line.line_no) and how many of its units to refund';
REVOKE ALL ON TYPE benefit.refund_line FROM PUBLIC;
GRANT USAGE ON TYPE benefit.refund_line TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.order_refund (
    refund_ref  text NOT NULL,
    order_ref   text NOT NULL,
    whole       boolean NOT NULL,
    completes   boolean NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by_role     name NOT NULL DEFAULT SESSION_USER,
    CONSTRAINT order_refund_pkey PRIMARY KEY (refund_ref),
    CONSTRAINT order_refund_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref),
    CONSTRAINT order_refund_whole_check CHECK (completes OR NOT whole)
);
CREATE INDEX order_refund_order_ref_idx ON benefit.order_refund (order_ref);
COMMENT ON TABLE benefit.order_refund IS
    'One row per refund made by benefit.refund (the history of refunds): which order, whether it asked for the whole order, whether it left nothing to refund, when and by whom';
COMMENT ON COLUMN benefit.order_refund.refund_ref IS 'The application''s refund reference: a refund is made once per reference';
COMMENT ON COLUMN benefit.order_refund.order_ref IS 'The order refunded';
COMMENT ON COLUMN benefit.order_refund.whole IS 'The call named no lines: everything the order had left was refunded';
COMMENT ON COLUMN benefit.order_refund.completes IS 'After it nothing was left to refund: the order became refunded, its promo use and codes were given back';
COMMENT ON COLUMN benefit.order_refund.at IS 'When';
COMMENT ON COLUMN benefit.order_refund.by_role IS 'Who: the database role of the session';
COMMENT ON CONSTRAINT order_refund_whole_check ON benefit.order_refund IS 'a refund of the whole order leaves nothing to refund';
COMMENT ON INDEX benefit.order_refund_order_ref_idx IS 'Refunds of an order';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_refund', '');
REVOKE ALL ON TABLE benefit.order_refund FROM PUBLIC;
GRANT SELECT ON benefit.order_refund TO benefit_admin;

CREATE TABLE benefit.order_refund_line (
    refund_ref  text NOT NULL,
    order_ref   text NOT NULL,
    line_no     integer NOT NULL,
    quantity    integer NOT NULL,
    CONSTRAINT order_refund_line_pkey PRIMARY KEY (refund_ref, line_no),
    CONSTRAINT order_refund_line_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_refund_line_refund_ref_fkey FOREIGN KEY (refund_ref) REFERENCES benefit.order_refund (refund_ref),
    CONSTRAINT order_refund_line_order_ref_line_no_fkey FOREIGN KEY (order_ref, line_no)
        REFERENCES benefit.order_line (order_ref, line_no)
);
CREATE INDEX order_refund_line_order_ref_line_no_idx ON benefit.order_refund_line (order_ref, line_no);
COMMENT ON TABLE benefit.order_refund_line IS
    'The units each refund gave back, line by line (a refund of the whole order lists every line with the units it had left)';
COMMENT ON COLUMN benefit.order_refund_line.refund_ref IS 'The refund';
COMMENT ON COLUMN benefit.order_refund_line.order_ref IS 'The order (that of the refund)';
COMMENT ON COLUMN benefit.order_refund_line.line_no IS 'The line of the order';
COMMENT ON COLUMN benefit.order_refund_line.quantity IS 'Units of the line refunded';
COMMENT ON CONSTRAINT order_refund_line_quantity_check ON benefit.order_refund_line IS 'quantity must be positive';
COMMENT ON INDEX benefit.order_refund_line_order_ref_line_no_idx IS 'Refunded units of a line';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_refund_line', '');
REVOKE ALL ON TABLE benefit.order_refund_line FROM PUBLIC;
GRANT SELECT ON benefit.order_refund_line TO benefit_admin;

CREATE TABLE benefit.order_refund_counter (
    refund_ref  text NOT NULL,
    order_ref   text NOT NULL,
    kind        benefit.counter_kind NOT NULL,
    owner_id    bigint NOT NULL,
    key         bigint NOT NULL,
    units       integer NOT NULL,
    CONSTRAINT order_refund_counter_pkey PRIMARY KEY (refund_ref, kind, owner_id, key),
    CONSTRAINT order_refund_counter_units_check CHECK (units > 0),
    CONSTRAINT order_refund_counter_refund_ref_fkey FOREIGN KEY (refund_ref) REFERENCES benefit.order_refund (refund_ref),
    CONSTRAINT order_refund_counter_order_ref_kind_owner_id_key_fkey FOREIGN KEY (order_ref, kind, owner_id, key)
        REFERENCES benefit.order_hold_counter (order_ref, kind, owner_id, key)
);
CREATE INDEX order_refund_counter_order_ref_idx ON benefit.order_refund_counter (order_ref, kind, owner_id, key);
COMMENT ON TABLE benefit.order_refund_counter IS
    'The units each refund gave back on each counter row its order had reserved (order_hold_counter): together never more than the order used';
COMMENT ON COLUMN benefit.order_refund_counter.refund_ref IS 'The refund';
COMMENT ON COLUMN benefit.order_refund_counter.order_ref IS 'The order (that of the refund)';
COMMENT ON COLUMN benefit.order_refund_counter.kind IS 'Counter kind';
COMMENT ON COLUMN benefit.order_refund_counter.owner_id IS 'Counter owner (benefit or promo code)';
COMMENT ON COLUMN benefit.order_refund_counter.key IS 'Counter key (slot, performance or contact)';
COMMENT ON COLUMN benefit.order_refund_counter.units IS 'Units given back (taken off the counter''s used)';
COMMENT ON CONSTRAINT order_refund_counter_units_check ON benefit.order_refund_counter IS 'units must be positive';
COMMENT ON INDEX benefit.order_refund_counter_order_ref_idx IS 'Units already given back on a counter row of an order';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_refund_counter', '');
REVOKE ALL ON TABLE benefit.order_refund_counter FROM PUBLIC;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.refund(order_ref text, refund_ref text, lines benefit.refund_line[] DEFAULT NULL)
RETURNS benefit.reason
AS 'MODULE_PATHNAME', 'benefit_refund'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.refund(text, text, benefit.refund_line[]) IS
    '(C, src/refund.c) Refunds a confirmed order, whole (lines NULL) or some units of some lines (line_no, quantity): gives back the quota units of the refunded units, the single-use codes whose units are all refunded (back to issued), and, when nothing is left to refund, the promo-code use and everything else the order used (the order becomes refunded); marks the tickets of the refunded units; ok (also when the same refund_ref is repeated: nothing changes), unknown_order or not_confirmed; 22023 for a refund_ref of another order or other lines, an unknown line, a quantity under 1 or over what the line has left';
REVOKE ALL ON FUNCTION benefit.refund(text, text, benefit.refund_line[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.refund(text, text, benefit.refund_line[]) TO benefit_sales, benefit_admin;
