-- 0.2.0: audit columns written by the extension only; a live benefit stays
-- complete when the rows it refers to change; season days read in UTC;
-- promo-code problems listed.  (The update's warning about live benefits
-- that are already incomplete is in 50_time_zone_and_isolation.sql, after
-- list_problems reads season days in UTC too.)

COMMENT ON COLUMN benefit.promo_code.season_id IS
    'Season the code belongs to, for reporting (promo_usage); it does not restrict the products of the basket';

-- The audit columns are written by the extension only: benefit_admin
-- inserts and updates benefits, contacts and promo codes column by column,
-- without created_at, status_changed_at, status_changed_by and revision.
REVOKE INSERT, UPDATE ON benefit.benefit, benefit.contact, benefit.promo_code FROM benefit_admin;
GRANT INSERT (code, name, description, season_id, target_type, campaign_id, indicator_level_id, access_code,
              point_of_sale_id, valid_from, valid_until, all_channels, quota_total, quota_per_performance,
              quota_per_contact, quota_per_order, status),
      UPDATE (code, name, description, season_id, target_type, campaign_id, indicator_level_id, access_code,
              point_of_sale_id, valid_from, valid_until, all_channels, quota_total, quota_per_performance,
              quota_per_contact, quota_per_order, status)
    ON benefit.benefit TO benefit_admin;
GRANT INSERT (kind, name, email, language, external_ref), UPDATE (kind, name, email, language, external_ref)
    ON benefit.contact TO benefit_admin;
GRANT INSERT (code, name, season_id, percent_off, amount_off_cents, valid_from, valid_until, all_channels,
              min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact, is_active),
      UPDATE (code, name, season_id, percent_off, amount_off_cents, valid_from, valid_until, all_channels,
              min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact, is_active)
    ON benefit.promo_code TO benefit_admin;

-- A live benefit stays complete when the rows it refers to change: its
-- season's dates, the season of its products and of its campaign, the
-- channel of its point of sale, the kind of its channels (and a new channel,
-- for benefits sold on all channels).  Going live locks those rows (FOR
-- SHARE) before judging them, and an edit of them locks the benefits that
-- refer to them, so that each side either waits for the other and judges
-- its committed rows, or (REPEATABLE READ) fails with a serialization error.

CREATE FUNCTION benefit.check_still_complete(benefit_ids bigint[])
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
    bcode text;
    problems text;
BEGIN
    -- "The validity has already ended" is not held against edits.
    FOR id, bcode IN
        SELECT b.benefit_id, b.code FROM benefit.benefit b
         WHERE b.benefit_id = ANY (benefit_ids) AND b.status = 'live'
         ORDER BY b.benefit_id
    LOOP
        SELECT string_agg(format('%s: %s', p.field, p.problem), E'\n' ORDER BY p.field, p.problem)
          INTO problems
          FROM benefit.list_problems(id) p
         WHERE p.problem <> 'the validity has already ended';
        IF problems IS NOT NULL THEN
            RAISE EXCEPTION 'this change would leave live benefit "%" incomplete', bcode
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = problems,
                      HINT = 'Suspend it with benefit.suspend() to rework it, or close it.';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION benefit.check_still_complete(bigint[]) IS
    'Refuses (55000, naming the first benefit and its problems) when one of these benefits is live and has a problem that going live refuses';

CREATE OR REPLACE FUNCTION benefit.check_live_complete()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
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
    PERFORM benefit.check_still_complete(ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN OLD.benefit_id END,
        CASE WHEN TG_OP <> 'DELETE' THEN NEW.benefit_id END]);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION benefit.check_live_complete() IS
    'Trigger function: refuses validating or going live with problems (judged on the referenced season, products, campaign, point of sale and channels, locked FOR SHARE), and an edit that would leave a live benefit incomplete (for example removing its last channel)';

CREATE FUNCTION benefit.check_live_references()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
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
    PERFORM benefit.check_still_complete(ids);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit.check_live_references() IS
    'Trigger function: refuses an edit of a season, product, campaign, point of sale or channel (or a new channel) that would give a live benefit referring to it a problem that going live refuses; locks those benefits FOR SHARE first';

CREATE CONSTRAINT TRIGGER season_live_refs_trg
    AFTER UPDATE OF starts_on, ends_on ON benefit.season
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.starts_on IS DISTINCT FROM OLD.starts_on OR NEW.ends_on IS DISTINCT FROM OLD.ends_on)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER season_live_refs_trg ON benefit.season IS
    'The season of a live benefit keeps its validity inside it';

CREATE CONSTRAINT TRIGGER product_live_refs_trg
    AFTER UPDATE OF season_id ON benefit.product
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.season_id IS DISTINCT FROM OLD.season_id)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER product_live_refs_trg ON benefit.product IS
    'A product priced by a live benefit stays in its season';

CREATE CONSTRAINT TRIGGER campaign_live_refs_trg
    AFTER UPDATE OF season_id ON benefit.campaign
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.season_id IS DISTINCT FROM OLD.season_id)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER campaign_live_refs_trg ON benefit.campaign IS
    'The campaign of a live benefit stays in its season';

CREATE CONSTRAINT TRIGGER point_of_sale_live_refs_trg
    AFTER UPDATE OF channel_id ON benefit.point_of_sale
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.channel_id IS DISTINCT FROM OLD.channel_id)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER point_of_sale_live_refs_trg ON benefit.point_of_sale IS
    'The point of sale of a live single-use benefit stays on its channels';

CREATE CONSTRAINT TRIGGER sales_channel_live_refs_trg
    AFTER UPDATE OF kind ON benefit.sales_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.kind IS DISTINCT FROM OLD.kind)
    EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER sales_channel_live_refs_trg ON benefit.sales_channel IS
    'A channel keeps the kind its live benefits were judged on';

CREATE CONSTRAINT TRIGGER sales_channel_insert_live_refs_trg
    AFTER INSERT ON benefit.sales_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION benefit.check_live_references();
COMMENT ON TRIGGER sales_channel_insert_live_refs_trg ON benefit.sales_channel IS
    'A new channel joins every live benefit sold on all channels: it must not make one incomplete (a web channel for a single-use benefit without a point of sale)';

REVOKE ALL ON FUNCTION benefit.check_still_complete(bigint[]), benefit.check_live_references() FROM PUBLIC;
-- the triggers run it as the role making the edit
GRANT EXECUTE ON FUNCTION benefit.check_still_complete(bigint[]) TO benefit_admin;

-- One time zone for every season date.  A season's starts_on and ends_on are
-- calendar days in UTC: the season runs from starts_on 00:00 UTC to the end
-- of ends_on, 24:00 UTC, whatever the TimeZone of the session that writes or
-- judges a validity (a validity is an instant, timestamptz).  Comparing a
-- date with a timestamptz directly would read the date in the session's
-- time zone: a benefit that went live from a UTC session could then not be
-- renamed from a Europe/Zurich one, and benefit_overview.problems would
-- depend on the reader.  list_problems (benefits) and list_promo_problems
-- judge a validity against its season with list_validity_problems, which
-- reads every season day through season_day_start.
CREATE FUNCTION benefit.season_day_start(day date)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.timezone('UTC', day::timestamp);
COMMENT ON FUNCTION benefit.season_day_start(date) IS
    'The instant a season''s calendar day starts: its midnight in UTC, the one time zone season dates are read in (never the session''s); a season runs from season_day_start(starts_on) to season_day_start(ends_on + 1)';

CREATE FUNCTION benefit.list_validity_problems(valid_from timestamptz, valid_until timestamptz,
                                               starts_on date, ends_on date)
RETURNS TABLE (field text, problem text)
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'valid_until', 'the validity has already ended'
     WHERE valid_until <= now()
    UNION ALL
    SELECT 'valid_until', format('the validity ends before the season starts (%s)', to_char(starts_on::timestamp, 'YYYY-MM-DD'))
     WHERE valid_until <= benefit.season_day_start(starts_on)
    UNION ALL
    SELECT 'valid_from', format('the validity starts after the season ends (%s)', to_char(ends_on::timestamp, 'YYYY-MM-DD'))
     WHERE valid_from >= benefit.season_day_start(ends_on + 1)
$$;
COMMENT ON FUNCTION benefit.list_validity_problems(timestamptz, timestamptz, date, date) IS
    'The problems of a validity (either end NULL: open) in its season (NULL: none): already ended, ends before the season starts, starts after the season ends; season days are read in UTC (season_day_start); the rule list_problems and list_promo_problems share';

REVOKE ALL ON FUNCTION benefit.season_day_start(date),
    benefit.list_validity_problems(timestamptz, timestamptz, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.season_day_start(date) TO benefit_admin, benefit_report;
GRANT EXECUTE ON FUNCTION benefit.list_validity_problems(timestamptz, timestamptz, date, date) TO benefit_admin;

-- Promo codes have no lifecycle: what keeps one from being used is listed
-- (as list_problems does for benefits), not refused, so that a script may
-- insert a code and its channels in separate statements.
CREATE FUNCTION benefit.list_promo_problems(p_promo_code_id bigint)
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
      FROM p, benefit.list_validity_problems(p.valid_from, p.valid_until, p.starts_on, p.ends_on) v
$$;
COMMENT ON FUNCTION benefit.list_promo_problems(bigint) IS
    'What keeps a promo code from being used anywhere: one row per problem, naming the field (no channel, both channel forms, validity ended or outside its season); no rows when it is complete or unknown';

CREATE FUNCTION benefit.count_promo_problems(p_promo_code_id bigint)
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT count(*) FROM benefit.list_promo_problems(p_promo_code_id);
END;
COMMENT ON FUNCTION benefit.count_promo_problems(bigint) IS
    'How many problems keep a promo code from being used (for the reporting view, which must not show their details)';

CREATE OR REPLACE VIEW benefit.promo_usage AS
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
       benefit.count_promo_problems(p.promo_code_id) AS problems
  FROM benefit.promo_code p
  LEFT JOIN benefit.counter c ON c.kind = 'promo_slot' AND c.owner_id = p.promo_code_id
 GROUP BY p.promo_code_id;
COMMENT ON VIEW benefit.promo_usage IS
    'Per promo code: total use limit, uses held by open holds, used by confirmed orders, left (NULL: no limit), discount given (cents, confirmed orders), number of problems (benefit.list_promo_problems says which)';

REVOKE ALL ON FUNCTION benefit.list_promo_problems(bigint), benefit.count_promo_problems(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.list_promo_problems(bigint), benefit.count_promo_problems(bigint) TO benefit_admin;
GRANT EXECUTE ON FUNCTION benefit.count_promo_problems(bigint) TO benefit_report;
