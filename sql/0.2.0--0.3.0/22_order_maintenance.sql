-- 0.3.0, order maintenance (sql/src/22_order_maintenance.sql): order_hold
-- indexes no changing column, so that its updates stay HOT; the open holds
-- are listed by deadline in benefit.order_open (filled here from the open
-- holds; its triggers are created in after/, with their function); orders by
-- creation time, for purge_orders.
DROP INDEX benefit.order_hold_open_idx;
ALTER TABLE benefit.order_hold SET (fillfactor = 70);
ALTER TABLE benefit.order_code SET (fillfactor = 90);
CREATE INDEX order_hold_created_at_idx ON benefit.order_hold (created_at);
COMMENT ON INDEX benefit.order_hold_created_at_idx IS 'Orders by creation time (never updated), for purge_orders';
COMMENT ON TABLE benefit.order_hold IS
    'One row per order of the ledger: a basket held by benefit.hold, or a codes order of hold_code and redeem_code; its kind, state, deadline and priced totals; an order reference is held once (README), until purge_orders deletes the closed order; fillfactor 70 and no index on a changing column, so that updates stay HOT (open holds by deadline: benefit.order_open)';
COMMENT ON TABLE benefit.order_code IS 'The single-use codes each hold claimed (fillfactor 90: room for an update to stay HOT)';

CREATE TABLE benefit.order_open (
    order_ref   text NOT NULL,
    held_until  timestamptz NOT NULL,
    CONSTRAINT order_open_pkey PRIMARY KEY (order_ref),
    CONSTRAINT order_open_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref)
        ON DELETE CASCADE
);
CREATE INDEX order_open_held_until_idx ON benefit.order_open (held_until);
COMMENT ON TABLE benefit.order_open IS
    'The open holds (order_hold rows in state held) by deadline, for expire_holds; kept in step by the triggers order_hold_open_insert_trg and order_hold_open_update_trg, so that order_hold needs no index on a changing column';
COMMENT ON COLUMN benefit.order_open.order_ref IS 'The open order';
COMMENT ON COLUMN benefit.order_open.held_until IS 'Its deadline (order_hold.held_until)';
COMMENT ON INDEX benefit.order_open_held_until_idx IS 'Open holds by deadline, for expire_holds';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_open', '');
REVOKE ALL ON TABLE benefit.order_open FROM PUBLIC;
GRANT SELECT ON benefit.order_open TO benefit_admin;
INSERT INTO benefit.order_open (order_ref, held_until)
SELECT o.order_ref, o.held_until FROM benefit.order_hold o WHERE o.state = 'held';
