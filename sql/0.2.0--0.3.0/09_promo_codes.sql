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

-- promo_usage gains the budget columns (sql/src/20_reporting.sql)
DROP VIEW benefit.promo_usage;
-- The budget slots are named by a text cast ('promo_budget'::text::counter_kind, evaluated when
-- the view is read): a literal of the kind would be resolved when the view is made, which the
-- upgrade to 0.3.0 cannot do in the transaction that adds the kind.
CREATE VIEW benefit.promo_usage AS
SELECT p.promo_code_id,
       p.code,
       p.name,
       p.is_active,
       p.max_uses_total,
       coalesce(sum(c.held), 0)::integer AS held,
       coalesce(sum(c.used), 0)::integer AS used,
       (p.max_uses_total - coalesce(sum(c.held + c.used), 0))::integer AS left,
       coalesce((SELECT sum(h.promo_discount_cents) FROM benefit.order_hold h
                  WHERE h.promo_code_id = p.promo_code_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents,
       benefit.count_promo_problems(p.promo_code_id) AS problems,
       p.max_discount_cents_total AS budget_cents,
       coalesce(g.held, 0) AS budget_held_cents,
       coalesce(g.used, 0) AS budget_used_cents,
       p.max_discount_cents_total - coalesce(g.held + g.used, 0) AS budget_left_cents
  FROM benefit.promo_code p
  LEFT JOIN benefit.counter c ON c.kind = 'promo_slot' AND c.owner_id = p.promo_code_id
  LEFT JOIN LATERAL (SELECT sum(b.held)::bigint AS held, sum(b.used)::bigint AS used
                       FROM benefit.counter b
                      WHERE b.kind = 'promo_budget'::text::benefit.counter_kind
                        AND b.owner_id = p.promo_code_id) g ON true
 GROUP BY p.promo_code_id, g.held, g.used;
COMMENT ON VIEW benefit.promo_usage IS
    'Per promo code: total use limit, uses held by open holds, used by confirmed orders, left (NULL: no limit), discount given (cents, confirmed orders), number of problems (benefit.list_promo_problems says which), and its budget in cents: the budget, held by open holds, used by confirmed orders, left (NULL: no budget)';
COMMENT ON COLUMN benefit.promo_usage.promo_code_id IS 'The promo code';
COMMENT ON COLUMN benefit.promo_usage.code IS 'The code buyers enter';
COMMENT ON COLUMN benefit.promo_usage.name IS 'Its display name';
COMMENT ON COLUMN benefit.promo_usage.is_active IS 'False when switched off';
COMMENT ON COLUMN benefit.promo_usage.max_uses_total IS 'Total use limit, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_usage.held IS 'Uses held by open holds';
COMMENT ON COLUMN benefit.promo_usage.used IS 'Uses by confirmed orders';
COMMENT ON COLUMN benefit.promo_usage."left" IS 'Uses left under the total limit, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_usage.discount_cents IS 'Discount it gave on confirmed orders, in cents';
COMMENT ON COLUMN benefit.promo_usage.problems IS 'Number of configuration problems (benefit.list_promo_problems says which)';
COMMENT ON COLUMN benefit.promo_usage.budget_cents IS 'Budget: total discount it may give, in cents (max_discount_cents_total), or NULL for no budget';
COMMENT ON COLUMN benefit.promo_usage.budget_held_cents IS 'Discount held by open holds, in cents (counted with or without a budget)';
COMMENT ON COLUMN benefit.promo_usage.budget_used_cents IS 'Discount of confirmed orders counted on the budget, in cents (orders held before 0.3.0 are not counted)';
COMMENT ON COLUMN benefit.promo_usage.budget_left_cents IS 'Budget left (budget_cents - budget_held_cents - budget_used_cents), or NULL for no budget';
REVOKE ALL ON TABLE benefit.promo_usage FROM PUBLIC;
GRANT SELECT ON benefit.promo_usage TO benefit_report, benefit_admin;
