-- 0.3.0, the order ledger (sql/src/18_orders.sql): an order is a basket or a
-- codes order (hold_code, redeem_code); a code covers a number of units; a
-- confirmed order may be refunded.
ALTER TYPE benefit.hold_state ADD VALUE 'refunded';
ALTER TABLE benefit.order_hold ADD COLUMN kind text NOT NULL DEFAULT 'basket',
    ADD CONSTRAINT order_hold_kind_check CHECK (kind IN ('basket', 'codes'));
COMMENT ON COLUMN benefit.order_hold.kind IS 'basket: held by benefit.hold with priced lines; codes: single-use codes held or used by hold_code and redeem_code, without lines';
COMMENT ON CONSTRAINT order_hold_kind_check ON benefit.order_hold IS 'an order is a basket or a codes order';
ALTER TABLE benefit.order_code ADD COLUMN units integer,
    ADD CONSTRAINT order_code_units_check CHECK (units > 0);
COMMENT ON COLUMN benefit.order_code.units IS 'Units of its benefit the code covers in the order (NULL: a code of a benefit without units_per_code, covering every unit of its benefit in the basket)';
COMMENT ON CONSTRAINT order_code_units_check ON benefit.order_code IS 'units must be positive';
COMMENT ON TYPE benefit.hold_state IS
    'State of an order: held (units reserved until held_until), confirmed (uses final), released (given back by the order), expired (given back at the deadline), refunded (confirmed, then wholly refunded)';
ALTER TABLE benefit.order_hold ALTER COLUMN channel DROP NOT NULL;
COMMENT ON COLUMN benefit.order_hold.channel IS 'Sales channel code of the hold (NULL: a code call that named no channel)';
COMMENT ON COLUMN benefit.order_hold.state IS 'held, confirmed, released, expired or refunded';
-- hold, confirm, release and expire_holds are C since 0.3.0 (src/order.c, src/pricing.c): the
-- PL/pgSQL helpers they called, written again there, are gone
DROP FUNCTION benefit_internal.lock_codes(text[]);
DROP FUNCTION benefit_internal.settle(text[], boolean);
DROP FUNCTION benefit_internal.release_codes(text[], text);
DROP FUNCTION benefit_internal.price_guarded(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text);
