-- 0.3.0, promo codes (sql/src/09_promo_codes.sql): list_promo_problems reads
-- the validity rule from benefit_internal.

CREATE OR REPLACE FUNCTION benefit.list_promo_problems(p_promo_code_id bigint)
RETURNS TABLE (field text, problem text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH p AS (
        SELECT p.*, s.starts_on, s.ends_on
          FROM benefit.promo_code p
          LEFT JOIN benefit.season s ON s.season_id = p.season_id
         WHERE p.promo_code_id = p_promo_code_id
    )
    SELECT 'channels', 'no sales channel: set all_channels or add rows to promo_code_channel'
      FROM p WHERE NOT p.all_channels
       AND NOT EXISTS (SELECT 1 FROM benefit.promo_code_channel c WHERE c.promo_code_id = p.promo_code_id)
    UNION ALL
    SELECT 'channels', 'all_channels is set and promo_code_channel has rows too: keep one of them'
      FROM p WHERE p.all_channels
       AND EXISTS (SELECT 1 FROM benefit.promo_code_channel c WHERE c.promo_code_id = p.promo_code_id)
    UNION ALL
    SELECT v.field, v.problem
      FROM p, benefit_internal.list_validity_problems(p.valid_from, p.valid_until, p.starts_on, p.ends_on) v
$$;
