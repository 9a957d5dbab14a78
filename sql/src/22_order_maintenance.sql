/*
 * Order maintenance: the order tables stay lean under load.
 *
 * HOT updates.  An order row is written once by hold and updated when it is
 * confirmed, released, expired or refunded.  PostgreSQL keeps such an update
 * on the same page without touching any index (a HOT update) only when no
 * indexed column changes, and a partial index's predicate counts: an index
 * "(held_until) WHERE state = 'held'" made every closing of an order a
 * non-HOT update, with a new entry in every index of order_hold.  So
 * order_hold indexes no column that changes (its key and created_at only),
 * keeps room on its pages (fillfactor 70), and the open holds are listed by
 * deadline in a small table of their own, benefit.order_open: one row per
 * open hold, inserted when an order is held, deleted when it is closed, kept
 * in step by triggers on order_hold (so hold, confirm, release and
 * expire_holds write order_hold only).  expire_holds finds the due holds
 * there.
 *
 * Purge.  purge_orders deletes closed orders (their lines, codes, the
 * record of the units they reserved, their refunds) older than a given age,
 * in batches, next to buyers and to itself: it locks each order row first
 * (the common lock order), skips what another call is using (SKIP LOCKED)
 * or changed since its snapshot (REPEATABLE READ, SERIALIZABLE), and never
 * touches an open hold.  Released and expired orders by default; confirmed
 * and refunded ones only when asked (the sales figures of the usage views
 * are summed from them).  The counters, the codes, their history and the
 * tickets stay: they are the audit of what was used.
 */

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

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

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.track_open_order()
RETURNS trigger
AS 'MODULE_PATHNAME', 'benefit_track_open_order'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION benefit_internal.track_open_order() IS
    '(C, src/order_open.c) Trigger: keeps benefit.order_open in step with order_hold (a hold opened, its deadline moved, the order closed)';
REVOKE ALL ON FUNCTION benefit_internal.track_open_order() FROM PUBLIC;

CREATE FUNCTION benefit.purge_orders(older_than interval DEFAULT '90 days', batch integer DEFAULT 10000,
                                     include_confirmed boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_cutoff timestamptz;
    v_rc boolean := pg_catalog.current_setting('transaction_isolation') = 'read committed';
    v_orders text[];
    v_ref text;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.purge_orders()');
    IF purge_orders.older_than IS NULL OR purge_orders.batch IS NULL OR purge_orders.include_confirmed IS NULL THEN
        RAISE EXCEPTION 'older_than, batch and include_confirmed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF purge_orders.older_than < interval '0' OR purge_orders.older_than > interval '100 years' THEN
        RAISE EXCEPTION 'older_than must be between 0 and 100 years' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('older_than was "%s".', purge_orders.older_than);
    ELSIF purge_orders.batch NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 100000' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('batch was "%s".', purge_orders.batch);
    END IF;
    v_cutoff := clock_timestamp() - purge_orders.older_than;
    -- closed before the cutoff (created before it too: the index); a confirmed or refunded order
    -- only when asked, only a basket (a codes order has no performance to wait for: it stays, the
    -- record of its codes' use), and not before every performance of its lines has begun and its
    -- last refund was made before the cutoff
    FOR v_ref IN SELECT o.order_ref FROM benefit.order_hold o
                  WHERE o.created_at < v_cutoff AND o.state <> 'held' AND o.closed_at < v_cutoff
                    AND (o.state IN ('released', 'expired')
                         OR (purge_orders.include_confirmed AND o.kind = 'basket'
                             AND NOT EXISTS (SELECT FROM benefit.order_line l
                                               JOIN benefit.performance f ON f.performance_id = l.performance_id
                                              WHERE l.order_ref = o.order_ref AND f.starts_at >= v_cutoff)
                             AND NOT EXISTS (SELECT FROM benefit.order_refund r
                                              WHERE r.order_ref = o.order_ref AND r.at >= v_cutoff)))
                  ORDER BY o.created_at
                  LIMIT purge_orders.batch LOOP
        -- the order row first (the common lock order); one another call is using is skipped.
        -- READ COMMITTED: the row is read again as it is now (closed since the statement began,
        -- or deleted by another run: skipped).  REPEATABLE READ, SERIALIZABLE: a row changed or
        -- deleted since the snapshot fails to lock with 40001: that call decided, skipped too
        -- (a subtransaction per order, at these isolation levels only).
        IF v_rc THEN
            PERFORM FROM benefit.order_hold o
              WHERE o.order_ref = v_ref AND o.state <> 'held' AND o.closed_at < v_cutoff
                FOR UPDATE SKIP LOCKED;
            IF FOUND THEN
                v_orders := v_orders || v_ref;
            END IF;
        ELSE
            BEGIN
                PERFORM FROM benefit.order_hold o
                  WHERE o.order_ref = v_ref AND o.state <> 'held' AND o.closed_at < v_cutoff
                    FOR UPDATE SKIP LOCKED;
                IF FOUND THEN
                    v_orders := v_orders || v_ref;
                END IF;
            EXCEPTION WHEN serialization_failure THEN
                NULL;
            END;
        END IF;
    END LOOP;
    IF v_orders IS NULL THEN
        RETURN 0;
    END IF;
    -- the refunds' rows first (they refer to the lines and reserved units), then the order's
    DELETE FROM benefit.order_refund_line r WHERE r.order_ref = ANY (v_orders);
    DELETE FROM benefit.order_refund_counter r WHERE r.order_ref = ANY (v_orders);
    DELETE FROM benefit.order_refund r WHERE r.order_ref = ANY (v_orders);
    DELETE FROM benefit.order_line l WHERE l.order_ref = ANY (v_orders);
    DELETE FROM benefit.order_code c WHERE c.order_ref = ANY (v_orders);
    DELETE FROM benefit.order_hold_counter c WHERE c.order_ref = ANY (v_orders);
    DELETE FROM benefit.order_hold o WHERE o.order_ref = ANY (v_orders);
    RETURN cardinality(v_orders);
END
$$;
COMMENT ON FUNCTION benefit.purge_orders(interval, integer, boolean) IS
    'Deletes at most batch closed orders (with their lines, codes, reserved units and refunds) closed more than older_than ago (by the clock): released and expired orders, and with include_confirmed also confirmed and refunded baskets (never a codes order of hold_code or redeem_code) whose performances all began, and whose last refund was made, before that; never an open hold; the counters, codes, code history and tickets stay; safe to run concurrently with buyers and with itself (an order in use, or changed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, is skipped); returns how many orders it deleted: call it again until 0';
REVOKE ALL ON FUNCTION benefit.purge_orders(interval, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.purge_orders(interval, integer, boolean) TO benefit_admin;

--------------------------------------------------------------------------
-- Triggers
--------------------------------------------------------------------------

CREATE TRIGGER order_hold_open_insert_trg
    AFTER INSERT ON benefit.order_hold
    FOR EACH ROW WHEN (NEW.state = 'held')
    EXECUTE FUNCTION benefit_internal.track_open_order();
COMMENT ON TRIGGER order_hold_open_insert_trg ON benefit.order_hold IS 'Lists a new open hold in benefit.order_open';

CREATE TRIGGER order_hold_open_update_trg
    AFTER UPDATE OF state, held_until ON benefit.order_hold
    FOR EACH ROW WHEN ((OLD.state = 'held' OR NEW.state = 'held')
                       AND (OLD.state IS DISTINCT FROM NEW.state OR OLD.held_until IS DISTINCT FROM NEW.held_until))
    EXECUTE FUNCTION benefit_internal.track_open_order();
COMMENT ON TRIGGER order_hold_open_update_trg ON benefit.order_hold IS
    'Keeps benefit.order_open in step when an open hold is closed or its deadline moves';
