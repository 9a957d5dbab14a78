-- 0.3.0, quotas (sql/src/15_quotas.sql): one transaction editing limits at a time, so that
-- operators editing several limits in different orders wait instead of deadlocking (the
-- trigger function is created by the restated routines above).
CREATE TRIGGER benefit_limit_edits_trg
    BEFORE UPDATE OF quota_total, quota_per_performance, quota_per_contact, quota_per_order ON benefit.benefit
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.serialize_limit_edits();
COMMENT ON TRIGGER benefit_limit_edits_trg ON benefit.benefit IS 'One transaction editing limits at a time (before any row is locked)';

CREATE TRIGGER promo_code_limit_edits_trg
    BEFORE UPDATE OF max_uses_total, max_uses_per_contact ON benefit.promo_code
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.serialize_limit_edits();
COMMENT ON TRIGGER promo_code_limit_edits_trg ON benefit.promo_code IS 'One transaction editing limits at a time (before any row is locked)';
