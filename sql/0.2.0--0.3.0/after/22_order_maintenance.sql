-- 0.3.0, order maintenance (sql/src/22_order_maintenance.sql): the triggers
-- keeping benefit.order_open in step with order_hold, once their function
-- exists.
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
