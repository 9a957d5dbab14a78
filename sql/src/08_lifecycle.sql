/*
 * The benefit lifecycle: draft -> validated -> live <-> suspended -> closed.
 * What keeps a benefit from being validated or going live (list_problems),
 * the transitions and what may change in each state (trigger functions on
 * benefit, benefit_tariff and benefit_channel), the status history, and the
 * lifecycle calls of benefit_admin (validate, go_live, suspend, close and
 * set_status behind them).
 *
 * The lifecycle calls and check_benefit_update run as the caller, so that
 * status_changed_by and the history record the role that made the change.
 *
 * A live benefit stays complete when the rows it refers to change: its
 * season's dates, the season of its products and of its campaign, the
 * channel of its point of sale, the kind of its channels (and a new channel,
 * for benefits sold on all channels).  Going live locks those rows (FOR
 * SHARE) before judging them, and an edit of them locks the benefits that
 * refer to them, so that each side either waits for the other and judges
 * its committed rows, or (REPEATABLE READ) fails with a serialization error.
 */

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.list_validity_problems(valid_from timestamptz, valid_until timestamptz,
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
COMMENT ON FUNCTION benefit_internal.list_validity_problems(timestamptz, timestamptz, date, date) IS
    'The problems of a validity (either end NULL: open) in its season (NULL: none): already ended, ends before the season starts, starts after the season ends; season days are read in UTC (season_day_start); the rule list_problems and list_promo_problems share';
REVOKE ALL ON FUNCTION benefit_internal.list_validity_problems(timestamptz, timestamptz, date, date) FROM PUBLIC;

CREATE FUNCTION benefit.list_problems(p_benefit_id bigint)
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
COMMENT ON FUNCTION benefit.list_problems(bigint) IS
    'What keeps a benefit from being validated or going live: one row per problem, naming the field; no rows when it is complete; season days are read in UTC, whatever the session''s TimeZone (list_validity_problems)';
REVOKE ALL ON FUNCTION benefit.list_problems(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.list_problems(bigint) TO benefit_admin;

CREATE FUNCTION benefit.count_problems(p_benefit_id bigint)
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT count(*) FROM benefit.list_problems(p_benefit_id);
END;
COMMENT ON FUNCTION benefit.count_problems(bigint) IS
    'How many problems keep a benefit from going live (for the reporting view, which must not show their details)';
REVOKE ALL ON FUNCTION benefit.count_problems(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.count_problems(bigint) TO benefit_admin, benefit_report;

CREATE FUNCTION benefit_internal.check_benefit_update()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status NOT IN ('draft', 'validated') THEN
            RAISE EXCEPTION 'cannot delete benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The benefit is %s; only draft and validated benefits can be deleted.', OLD.status),
                      HINT = 'Close it with benefit.close() instead.';
        END IF;
        RETURN OLD;
    END IF;

    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'new benefit "%" must start as draft', NEW.code
                USING ERRCODE = 'object_not_in_prerequisite_state', COLUMN = 'status',
                      HINT = 'Insert it as draft, then call benefit.go_live().';
        END IF;
        RETURN NEW;
    END IF;

    -- What may change depends on where the benefit comes from (OLD.status).
    IF OLD.status IN ('live', 'suspended', 'closed') THEN
        IF NEW.code IS DISTINCT FROM OLD.code
           OR NEW.season_id IS DISTINCT FROM OLD.season_id
           OR NEW.target_type IS DISTINCT FROM OLD.target_type
           OR NEW.campaign_id IS DISTINCT FROM OLD.campaign_id
           OR NEW.indicator_level_id IS DISTINCT FROM OLD.indicator_level_id THEN
            RAISE EXCEPTION 'cannot change the code, season or target of benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The benefit is %s; code, season_id, target_type, campaign_id and indicator_level_id are frozen once a benefit has gone live.', OLD.status),
                      HINT = 'Close it and create a new benefit.';
        END IF;
    END IF;
    IF OLD.status = 'live' THEN
        IF NEW.access_code IS DISTINCT FROM OLD.access_code
           OR NEW.point_of_sale_id IS DISTINCT FROM OLD.point_of_sale_id
           OR NEW.units_per_code IS DISTINCT FROM OLD.units_per_code THEN
            RAISE EXCEPTION 'cannot change the access code, point of sale or units per code of live benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Suspend it with benefit.suspend(), change it, then call benefit.go_live() again.';
        END IF;
    END IF;
    IF OLD.status IN ('live', 'suspended') THEN
        IF NEW.quota_total < OLD.quota_total OR (OLD.quota_total IS NULL AND NEW.quota_total IS NOT NULL)
           OR NEW.quota_per_performance < OLD.quota_per_performance
           OR (OLD.quota_per_performance IS NULL AND NEW.quota_per_performance IS NOT NULL)
           OR NEW.quota_per_contact < OLD.quota_per_contact
           OR (OLD.quota_per_contact IS NULL AND NEW.quota_per_contact IS NOT NULL)
           OR NEW.quota_per_order < OLD.quota_per_order
           OR (OLD.quota_per_order IS NULL AND NEW.quota_per_order IS NOT NULL) THEN
            RAISE EXCEPTION 'cannot lower a quota of benefit "%"', OLD.code
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The benefit is %s; its quotas may be raised or removed, not lowered or added.', OLD.status),
                      HINT = 'Close it and create a new benefit with the smaller quota.';
        END IF;
    END IF;
    IF OLD.status = 'closed' AND NEW.status = 'closed'
       AND (ROW(NEW.access_code, NEW.point_of_sale_id, NEW.valid_from, NEW.valid_until, NEW.all_channels,
                NEW.quota_total, NEW.quota_per_performance, NEW.quota_per_contact, NEW.quota_per_order,
                NEW.units_per_code)
            IS DISTINCT FROM
            ROW(OLD.access_code, OLD.point_of_sale_id, OLD.valid_from, OLD.valid_until, OLD.all_channels,
                OLD.quota_total, OLD.quota_per_performance, OLD.quota_per_contact, OLD.quota_per_order,
                OLD.units_per_code)) THEN
        RAISE EXCEPTION 'benefit "%" is closed', OLD.code
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only name and description of a closed benefit may change.';
    END IF;

    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT (   (OLD.status = 'draft' AND NEW.status IN ('validated', 'live', 'closed'))
                OR (OLD.status = 'validated' AND NEW.status IN ('draft', 'live', 'closed'))
                OR (OLD.status = 'live' AND NEW.status IN ('suspended', 'closed'))
                OR (OLD.status = 'suspended' AND NEW.status IN ('live', 'closed'))) THEN
            RAISE EXCEPTION 'benefit "%" cannot go from % to %', OLD.code, OLD.status, NEW.status
                USING ERRCODE = 'object_not_in_prerequisite_state', COLUMN = 'status',
                      HINT = 'Allowed: draft <-> validated, draft or validated -> live <-> suspended, any -> closed; closed is final.';
        END IF;
        -- Completeness is checked after the row is written, by
        -- benefit_live_complete_trg, so it judges the new values.
        NEW.status_changed_at := now();
        NEW.status_changed_by := current_user;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION benefit_internal.check_benefit_update() IS
    'Trigger function: enforces the lifecycle transitions, the completeness check on validate and go live, and what may change on a live, suspended or closed benefit';
REVOKE ALL ON FUNCTION benefit_internal.check_benefit_update() FROM PUBLIC;

CREATE FUNCTION benefit_internal.record_status_change()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO benefit.benefit_status_history (benefit_id, from_status, to_status, changed_by)
        VALUES (NEW.benefit_id, NULL, NEW.status, NEW.status_changed_by);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO benefit.benefit_status_history (benefit_id, from_status, to_status, changed_at, changed_by)
        VALUES (NEW.benefit_id, OLD.status, NEW.status, NEW.status_changed_at, NEW.status_changed_by);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.record_status_change() IS
    'Trigger function: appends each status change of a benefit to benefit_status_history';
REVOKE ALL ON FUNCTION benefit_internal.record_status_change() FROM PUBLIC;

CREATE FUNCTION benefit_internal.check_benefit_child()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
    st benefit.benefit_status;
    bcode text;
    editable benefit.benefit_status[];
BEGIN
    -- Tariff rows may change while draft, validated or suspended; channels
    -- also while live (adding or removing a channel takes effect at once).
    editable := CASE TG_TABLE_NAME
                    WHEN 'benefit_tariff' THEN '{draft,validated,suspended}'::benefit.benefit_status[]
                    ELSE '{draft,validated,live,suspended}'::benefit.benefit_status[]
                END;
    FOR id IN
        SELECT DISTINCT x FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.benefit_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.benefit_id END]) AS x
         WHERE x IS NOT NULL
    LOOP
        -- A real update of the parent row: a concurrent status change or
        -- child edit waits for this transaction (and fails with a
        -- serialization error under REPEATABLE READ instead of judging
        -- rows it cannot see).
        UPDATE benefit.benefit b SET revision = b.revision + 1
         WHERE b.benefit_id = id
        RETURNING b.status, b.code INTO st, bcode;
        -- Not found: the benefit is being deleted (cascade) or the foreign key reports it.
        IF FOUND AND NOT st = ANY (editable) THEN
            RAISE EXCEPTION 'cannot change % of % benefit "%"',
                    CASE TG_TABLE_NAME WHEN 'benefit_tariff' THEN 'the tariff rows' ELSE 'the channels' END,
                    st, bcode
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
                      HINT = CASE WHEN st = 'live'
                                  THEN 'Suspend it with benefit.suspend(), edit, then call benefit.go_live() again.'
                                  ELSE 'A closed benefit cannot change; create a new one.' END;
        END IF;
    END LOOP;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION benefit_internal.check_benefit_child() IS
    'Trigger function: refuses tariff-row edits unless the benefit is draft, validated or suspended, and channel edits on closed benefits; serialises with status changes';
REVOKE ALL ON FUNCTION benefit_internal.check_benefit_child() FROM PUBLIC;

CREATE FUNCTION benefit_internal.check_still_complete(benefit_ids bigint[])
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
COMMENT ON FUNCTION benefit_internal.check_still_complete(bigint[]) IS
    'Refuses (55000, naming the first benefit and its problems) when one of these benefits is live and has a problem that going live refuses';
REVOKE ALL ON FUNCTION benefit_internal.check_still_complete(bigint[]) FROM PUBLIC;

-- check_live_complete and check_live_references run as the extension owner:
-- they call benefit_internal.check_still_complete, and the role making the
-- edit (benefit_admin) may not use benefit_internal.  They judge rows and
-- raise; what the edit writes is written by check_benefit_update, as the
-- caller.
CREATE FUNCTION benefit_internal.check_live_complete()
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
COMMENT ON FUNCTION benefit_internal.check_live_complete() IS
    'Trigger function: refuses validating or going live with problems (judged on the referenced season, products, campaign, point of sale and channels, locked FOR SHARE), and an edit that would leave a live benefit incomplete (for example removing its last channel)';
REVOKE ALL ON FUNCTION benefit_internal.check_live_complete() FROM PUBLIC;

CREATE FUNCTION benefit_internal.check_live_references()
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
COMMENT ON FUNCTION benefit_internal.check_live_references() IS
    'Trigger function: refuses an edit of a season, product, campaign, point of sale or channel (or a new channel) that would give a live benefit referring to it a problem that going live refuses; locks those benefits FOR SHARE first';
REVOKE ALL ON FUNCTION benefit_internal.check_live_references() FROM PUBLIC;

CREATE FUNCTION benefit.set_status(p_benefit_id bigint, p_status benefit.benefit_status)
RETURNS benefit.benefit_status
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur benefit.benefit_status;
BEGIN
    -- FOR NO KEY UPDATE, as the UPDATE below: a buyer's foreign key share lock on the row
    -- (record_ticket) does not make an operator wait (see README, Lock order)
    SELECT b.status INTO cur FROM benefit.benefit b WHERE b.benefit_id = p_benefit_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'benefit % does not exist', p_benefit_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF cur <> p_status THEN
        UPDATE benefit.benefit SET status = p_status WHERE benefit_id = p_benefit_id;
    END IF;
    RETURN p_status;
END
$$;
COMMENT ON FUNCTION benefit.set_status(bigint, benefit.benefit_status) IS
    'Moves a benefit to a lifecycle state (idempotent when it is already there); the transition rules and checks are those of the benefit table''s trigger';
REVOKE ALL ON FUNCTION benefit.set_status(bigint, benefit.benefit_status) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.set_status(bigint, benefit.benefit_status) TO benefit_admin;

CREATE FUNCTION benefit.validate(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(validate.benefit_id, 'validated');
END;
COMMENT ON FUNCTION benefit.validate(bigint) IS
    'draft -> validated: checks completeness and refuses (55000) with every problem listed';
REVOKE ALL ON FUNCTION benefit.validate(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.validate(bigint) TO benefit_admin;

CREATE FUNCTION benefit.go_live(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(go_live.benefit_id, 'live');
END;
COMMENT ON FUNCTION benefit.go_live(bigint) IS
    'draft, validated or suspended -> live: checks completeness and refuses (55000) with every problem listed';
REVOKE ALL ON FUNCTION benefit.go_live(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.go_live(bigint) TO benefit_admin;

CREATE FUNCTION benefit.suspend(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(suspend.benefit_id, 'suspended');
END;
COMMENT ON FUNCTION benefit.suspend(bigint) IS
    'live -> suspended: stops offering the benefit; tariff rows, access code and point of sale become editable until it goes live again';
REVOKE ALL ON FUNCTION benefit.suspend(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.suspend(bigint) TO benefit_admin;

CREATE FUNCTION benefit.close(benefit_id bigint)
RETURNS benefit.benefit_status
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT benefit.set_status(close.benefit_id, 'closed');
END;
COMMENT ON FUNCTION benefit.close(bigint) IS
    'any state -> closed: final; the benefit and its history stay for reporting';
REVOKE ALL ON FUNCTION benefit.close(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.close(bigint) TO benefit_admin;

--------------------------------------------------------------------------
-- Triggers
--------------------------------------------------------------------------

CREATE TRIGGER benefit_check_trg
    BEFORE INSERT OR UPDATE OR DELETE ON benefit.benefit
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.check_benefit_update();
COMMENT ON TRIGGER benefit_check_trg ON benefit.benefit IS 'Lifecycle and edit rules of benefits';

CREATE TRIGGER benefit_history_trg
    AFTER INSERT OR UPDATE OF status ON benefit.benefit
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.record_status_change();
COMMENT ON TRIGGER benefit_history_trg ON benefit.benefit IS 'Records lifecycle transitions';

CREATE TRIGGER benefit_tariff_check_trg
    BEFORE INSERT OR UPDATE OR DELETE ON benefit.benefit_tariff
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.check_benefit_child();
COMMENT ON TRIGGER benefit_tariff_check_trg ON benefit.benefit_tariff IS 'Tariff rows are frozen while live and once closed';

CREATE TRIGGER benefit_channel_check_trg
    BEFORE INSERT OR UPDATE OR DELETE ON benefit.benefit_channel
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.check_benefit_child();
COMMENT ON TRIGGER benefit_channel_check_trg ON benefit.benefit_channel IS 'Channels are frozen once closed';

CREATE CONSTRAINT TRIGGER benefit_live_complete_trg
    AFTER UPDATE ON benefit.benefit
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN ((NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('validated', 'live'))
                       OR (NEW.status = 'live' AND NEW.revision = OLD.revision))
    EXECUTE FUNCTION benefit_internal.check_live_complete();
COMMENT ON TRIGGER benefit_live_complete_trg ON benefit.benefit IS 'Validating and going live need a complete benefit, and a live benefit stays complete';

CREATE CONSTRAINT TRIGGER benefit_channel_live_complete_trg
    AFTER INSERT OR UPDATE OR DELETE ON benefit.benefit_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.check_live_complete();
COMMENT ON TRIGGER benefit_channel_live_complete_trg ON benefit.benefit_channel IS 'A live benefit keeps a channel; SET CONSTRAINTS benefit.benefit_channel_live_complete_trg DEFERRED to swap channels in one transaction';

CREATE CONSTRAINT TRIGGER season_live_refs_trg
    AFTER UPDATE OF starts_on, ends_on ON benefit.season
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.starts_on IS DISTINCT FROM OLD.starts_on OR NEW.ends_on IS DISTINCT FROM OLD.ends_on)
    EXECUTE FUNCTION benefit_internal.check_live_references();
COMMENT ON TRIGGER season_live_refs_trg ON benefit.season IS
    'The season of a live benefit keeps its validity inside it';

CREATE CONSTRAINT TRIGGER product_live_refs_trg
    AFTER UPDATE OF season_id ON benefit.product
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.season_id IS DISTINCT FROM OLD.season_id)
    EXECUTE FUNCTION benefit_internal.check_live_references();
COMMENT ON TRIGGER product_live_refs_trg ON benefit.product IS
    'A product priced by a live benefit stays in its season';

CREATE CONSTRAINT TRIGGER campaign_live_refs_trg
    AFTER UPDATE OF season_id ON benefit.campaign
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.season_id IS DISTINCT FROM OLD.season_id)
    EXECUTE FUNCTION benefit_internal.check_live_references();
COMMENT ON TRIGGER campaign_live_refs_trg ON benefit.campaign IS
    'The campaign of a live benefit stays in its season';

CREATE CONSTRAINT TRIGGER point_of_sale_live_refs_trg
    AFTER UPDATE OF channel_id ON benefit.point_of_sale
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.channel_id IS DISTINCT FROM OLD.channel_id)
    EXECUTE FUNCTION benefit_internal.check_live_references();
COMMENT ON TRIGGER point_of_sale_live_refs_trg ON benefit.point_of_sale IS
    'The point of sale of a live single-use benefit stays on its channels';

CREATE CONSTRAINT TRIGGER sales_channel_live_refs_trg
    AFTER UPDATE OF kind ON benefit.sales_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.kind IS DISTINCT FROM OLD.kind)
    EXECUTE FUNCTION benefit_internal.check_live_references();
COMMENT ON TRIGGER sales_channel_live_refs_trg ON benefit.sales_channel IS
    'A channel keeps the kind its live benefits were judged on';

CREATE CONSTRAINT TRIGGER sales_channel_insert_live_refs_trg
    AFTER INSERT ON benefit.sales_channel
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.check_live_references();
COMMENT ON TRIGGER sales_channel_insert_live_refs_trg ON benefit.sales_channel IS
    'A new channel joins every live benefit sold on all channels: it must not make one incomplete (a web channel for a single-use benefit without a point of sale)';
