-- 0.3.0, the reasons of the order ledger (sql/src/02_types.sql): several codes in
-- a basket, promo budgets, refunds.  New enum values go at the end, in the
-- order of the full script.
ALTER TYPE benefit.reason ADD VALUE 'code_not_needed';
ALTER TYPE benefit.reason ADD VALUE 'promo_budget_reached';
ALTER TYPE benefit.reason ADD VALUE 'not_confirmed';
ALTER TYPE benefit.reason ADD VALUE 'ticket_refunded';
ALTER TYPE benefit.reason ADD VALUE 'code_units_exhausted';
ALTER TYPE benefit.reason ADD VALUE 'already_refunded';
