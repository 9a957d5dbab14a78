-- 0.3.0, refunds (sql/src/18_refunds.sql): the refund line type and the
-- history of refunds (refunds, their lines, the units given back on each
-- counter row); benefit.refund itself is restated with every routine.

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
