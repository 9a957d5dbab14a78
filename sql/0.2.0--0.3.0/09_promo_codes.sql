-- 0.3.0, promo budgets (sql/src/09_promo_codes.sql): a promo code may cap the
-- total discount it gives, counted on 16 budget slots of benefit.counter
-- (counter kind promo_budget, the last in lock order).  The new kind cannot be
-- used in this transaction: the promo codes of 0.2.0 get their budget slots on
-- their first hold (take_promo) or budget edit (promo_code_spend_slots_trg,
-- created in after/ once its function exists).
ALTER TYPE benefit.counter_kind ADD VALUE 'promo_budget';
COMMENT ON TABLE benefit.counter IS
    'Units held and used: a benefit''s total quota, a promo code''s total limit and its budget (in cents) split into 16 slots (key 0-15, each with its cap) that buyers lock independently; per performance, per contact of a benefit and per contact of a promo code, one row each (key: performance or contact id, checked against the benefit''s or promo code''s current limit); written only by the runtime functions (fillfactor 50 and no index on held/used, so updates stay HOT)';
COMMENT ON COLUMN benefit.counter.kind IS 'benefit_slot, benefit_performance, benefit_contact, promo_slot, promo_contact or promo_budget (a promo code''s budget slots, in cents)';

ALTER TABLE benefit.promo_code ADD COLUMN max_discount_cents_total bigint,
    ADD CONSTRAINT promo_code_max_discount_cents_total_check CHECK (max_discount_cents_total BETWEEN 1 AND 2147483647);
COMMENT ON COLUMN benefit.promo_code.max_discount_cents_total IS
    'Budget: total discount the code may give, held and confirmed orders together, in minor units, or NULL for no budget; a basket whose discount is more than the budget left is refused the code (promo_budget_reached), never given part of it';
COMMENT ON CONSTRAINT promo_code_max_discount_cents_total_check ON benefit.promo_code IS
    'max_discount_cents_total between 1 and 2147483647 minor units, the range of the counters (NULL: no budget)';
GRANT INSERT (max_discount_cents_total), UPDATE (max_discount_cents_total) ON benefit.promo_code TO benefit_admin;

-- promo_usage gains the budget columns in its middle (sql/src/20_reporting.sql):
-- dropped here, made again with the routines and views of sql/src.  It names the
-- budget slots by a text cast ('promo_budget'::text::counter_kind, evaluated when
-- the view is read): a literal of the kind would be resolved when the view is
-- made, which the upgrade cannot do in the transaction that adds the kind.
DROP VIEW benefit.promo_usage;
