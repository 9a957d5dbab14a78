-- 0.3.0, promo budgets (sql/src/09_promo_codes.sql): the trigger that keeps a
-- promo code's budget slots in step with max_discount_cents_total, once its
-- function exists.
CREATE TRIGGER promo_code_spend_slots_trg
    AFTER INSERT OR UPDATE OF max_discount_cents_total ON benefit.promo_code
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.spread_promo_budget();
COMMENT ON TRIGGER promo_code_spend_slots_trg ON benefit.promo_code IS
    'Creates the budget slots of a new promo code and spreads them again when max_discount_cents_total changes';
