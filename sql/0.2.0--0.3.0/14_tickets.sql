-- 0.3.0, tickets (sql/src/14_tickets.sql): a ticket is marked refunded by the
-- refund that gave its unit back; ticket_scanned refuses it.
ALTER TABLE benefit.ticket ADD COLUMN refunded_at timestamptz,
    ADD COLUMN refund_ref text,
    ADD CONSTRAINT ticket_refund_check CHECK ((refunded_at IS NULL) = (refund_ref IS NULL));
COMMENT ON COLUMN benefit.ticket.refunded_at IS 'When a refund of its order gave its unit back (benefit.refund), NULL while not refunded; a refunded ticket is refused at access control';
COMMENT ON COLUMN benefit.ticket.refund_ref IS 'The refund that gave its unit back (benefit.order_refund), NULL while not refunded';
COMMENT ON CONSTRAINT ticket_refund_check ON benefit.ticket IS 'a refunded ticket has a refund time and a refund reference, and only a refunded one has them';
-- a refund marks the tickets of its order: found by the order, not by a scan of every ticket
CREATE INDEX ticket_order_ref_idx ON benefit.ticket (order_ref);
COMMENT ON INDEX benefit.ticket_order_ref_idx IS 'Tickets of an order (refund marks them)';
