-- 0.3.0, the lifecycle (sql/src/08_lifecycle.sql): the functions whose body
-- names a moved helper.  list_problems reads the validity rule from
-- benefit_internal; check_live_complete and check_live_references also run as
-- the extension owner now (SECURITY DEFINER): benefit_admin, whose edits fire
-- them, may not use benefit_internal, where check_still_complete is.

CREATE OR REPLACE FUNCTION benefit.list_problems(p_benefit_id bigint)
RETURNS TABLE (field text, problem text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH b AS (
        SELECT b.*, s.starts_on, s.ends_on
          FROM benefit.benefit b
          JOIN benefit.season s ON s.season_id = b.season_id
         WHERE b.benefit_id = p_benefit_id
    ), chan AS (
        SELECT c.kind
          FROM b
          JOIN benefit.sales_channel c
            ON b.all_channels
            OR c.channel_id IN (SELECT bc.channel_id FROM benefit.benefit_channel bc
                                 WHERE bc.benefit_id = b.benefit_id)
    )
    SELECT 'campaign_id', 'a contacts benefit needs a campaign'
      FROM b WHERE b.target_type = 'contacts' AND b.campaign_id IS NULL
    UNION ALL
    SELECT 'campaign_id', format('campaign %s is for another season than the benefit', c.code)
      FROM b JOIN benefit.campaign c ON c.campaign_id = b.campaign_id
     WHERE c.season_id <> b.season_id
    UNION ALL
    SELECT 'indicator_level_id', 'an indicator benefit needs an indicator level'
      FROM b WHERE b.target_type = 'indicator' AND b.indicator_level_id IS NULL
    UNION ALL
    SELECT 'access_code', 'a partner benefit needs an access code'
      FROM b WHERE b.target_type = 'partner' AND b.access_code IS NULL
    UNION ALL
    SELECT 'point_of_sale_id', 'a single-use benefit sold on the web needs a web point of sale'
      FROM b WHERE b.target_type = 'single_use' AND b.point_of_sale_id IS NULL
       AND EXISTS (SELECT 1 FROM chan WHERE chan.kind = 'web')
    UNION ALL
    SELECT 'point_of_sale_id', format('point of sale %s is not on a channel the benefit is sold on', p.code)
      FROM b JOIN benefit.point_of_sale p ON p.point_of_sale_id = b.point_of_sale_id
     WHERE NOT b.all_channels
       AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                        WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = p.channel_id)
    UNION ALL
    SELECT 'quota_total', format('a %s benefit needs a total quota', b.target_type)
      FROM b WHERE b.target_type IN ('partner', 'single_use') AND b.quota_total IS NULL
    UNION ALL
    SELECT 'channels', 'no sales channel: set all_channels or add rows to benefit_channel'
      FROM b WHERE NOT b.all_channels
       AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc WHERE bc.benefit_id = b.benefit_id)
    UNION ALL
    SELECT 'channels', 'all_channels is set and benefit_channel has rows too: keep one of them'
      FROM b WHERE b.all_channels
       AND EXISTS (SELECT 1 FROM benefit.benefit_channel bc WHERE bc.benefit_id = b.benefit_id)
    UNION ALL
    SELECT 'tariff', 'no tariff rows'
      FROM b WHERE NOT EXISTS (SELECT 1 FROM benefit.benefit_tariff t WHERE t.benefit_id = b.benefit_id)
    UNION ALL
    SELECT 'tariff', format('product %s is in another season than the benefit', p.code)
      FROM b
      JOIN benefit.product p
        ON p.product_id IN (SELECT t.product_id FROM benefit.benefit_tariff t WHERE t.benefit_id = b.benefit_id)
     WHERE p.season_id <> b.season_id
    UNION ALL
    SELECT v.field, v.problem
      FROM b, benefit_internal.list_validity_problems(b.valid_from, b.valid_until, b.starts_on, b.ends_on) v
$$;

CREATE OR REPLACE FUNCTION benefit_internal.check_live_complete()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    problems text;
    n integer;
BEGIN
    -- A status change to validated or live: every problem refuses it,
    -- judged on the row as written (not as it was before the UPDATE) and on
    -- the referenced rows as committed, locked against concurrent edits.
    IF TG_TABLE_NAME = 'benefit' THEN
      IF NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM 1
           FROM benefit.season s
          WHERE s.season_id = NEW.season_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.product p
          WHERE p.product_id IN (SELECT t.product_id FROM benefit.benefit_tariff t WHERE t.benefit_id = NEW.benefit_id)
          ORDER BY p.product_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.campaign c
          WHERE c.campaign_id = NEW.campaign_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.point_of_sale p
          WHERE p.point_of_sale_id = NEW.point_of_sale_id
            FOR SHARE;
        PERFORM 1
           FROM benefit.sales_channel c
          WHERE NEW.all_channels
             OR c.channel_id IN (SELECT bc.channel_id FROM benefit.benefit_channel bc WHERE bc.benefit_id = NEW.benefit_id)
          ORDER BY c.channel_id
            FOR SHARE;
        SELECT count(*), string_agg(format('%s: %s', p.field, p.problem), E'\n' ORDER BY p.field, p.problem)
          INTO n, problems
          FROM benefit.list_problems(NEW.benefit_id) p;
        IF n > 0 THEN
            RAISE EXCEPTION 'benefit "%" cannot %', NEW.code,
                    CASE NEW.status WHEN 'live' THEN 'go live' ELSE 'be validated' END
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format(E'%s problem%s:\n%s', n, CASE WHEN n > 1 THEN 's' ELSE '' END, problems),
                      HINT = 'benefit.list_problems(benefit_id) lists the same problems.';
        END IF;
        RETURN NULL;
      END IF;
    END IF;

    -- A live benefit must stay complete: an edit allowed while live (channels,
    -- validity, all_channels) may not leave it without what going live needed.
    PERFORM benefit_internal.check_still_complete(ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN OLD.benefit_id END,
        CASE WHEN TG_OP <> 'DELETE' THEN NEW.benefit_id END]);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION benefit_internal.check_live_references()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    -- The benefits that refer to the changed row, locked FOR SHARE: an edit
    -- of one of them in progress (going live, a new validity, a channel)
    -- finishes first and is judged here, or waits for this transaction and
    -- judges its rows; under REPEATABLE READ a benefit changed since the
    -- snapshot is a serialization failure (40001) rather than a stale read.
    -- check_still_complete then judges the live ones.
    IF TG_TABLE_NAME = 'season' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b WHERE b.season_id = NEW.season_id
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'product' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b
                      WHERE b.benefit_id IN (SELECT t.benefit_id FROM benefit.benefit_tariff t
                                              WHERE t.product_id = NEW.product_id)
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'campaign' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b WHERE b.campaign_id = NEW.campaign_id
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'point_of_sale' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b WHERE b.point_of_sale_id = NEW.point_of_sale_id
                      ORDER BY b.benefit_id FOR SHARE);
    ELSIF TG_TABLE_NAME = 'sales_channel' THEN
        ids := ARRAY(SELECT b.benefit_id FROM benefit.benefit b
                      WHERE b.all_channels
                         OR b.benefit_id IN (SELECT bc.benefit_id FROM benefit.benefit_channel bc
                                              WHERE bc.channel_id = NEW.channel_id)
                      ORDER BY b.benefit_id FOR SHARE);
    END IF;
    PERFORM benefit_internal.check_still_complete(ids);
    RETURN NULL;
END
$$;
