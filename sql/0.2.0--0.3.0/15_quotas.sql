-- 0.3.0, quotas (sql/src/15_quotas.sql): the function whose body names a moved
-- helper.

CREATE OR REPLACE FUNCTION benefit_internal.maintain_slots()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF TG_TABLE_NAME = 'benefit' THEN
        PERFORM benefit_internal.spread_slots('benefit_slot', NEW.benefit_id, NEW.quota_total);
    ELSE
        PERFORM benefit_internal.spread_slots('promo_slot', NEW.promo_code_id, NEW.max_uses_total);
    END IF;
    RETURN NULL;
END
$$;
