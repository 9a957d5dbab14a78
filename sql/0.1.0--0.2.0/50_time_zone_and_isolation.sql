-- 0.2.0: every season date is read in UTC, whatever the session's TimeZone
-- (the rule itself, season_day_start and list_validity_problems, is in
-- 10_audit_and_references.sql, where list_promo_problems needs it first);
-- REPEATABLE READ and SERIALIZABLE callers of hold, expire_holds and
-- expire_code_holds get a business reason or a clean 40001, never another
-- error.

--------------------------------------------------------------------------
-- Time zones
--------------------------------------------------------------------------

COMMENT ON COLUMN benefit.season.starts_on IS
    'First day of the season, a calendar day in UTC: the season starts at its midnight UTC (benefit.season_day_start), whatever the session''s TimeZone';
COMMENT ON COLUMN benefit.season.ends_on IS
    'Last day of the season (not before starts_on), a calendar day in UTC: the season ends at the next midnight UTC';

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
      FROM b, benefit.list_validity_problems(b.valid_from, b.valid_until, b.starts_on, b.ends_on) v
$$;
COMMENT ON FUNCTION benefit.list_problems(bigint) IS
    'What keeps a benefit from being validated or going live: one row per problem, naming the field; no rows when it is complete; season days are read in UTC, whatever the session''s TimeZone (list_validity_problems)';

-- Live benefits that the new reference checks would already refuse: the
-- update keeps them live and says which, so that a DBA can fix them.  Run
-- here, once list_problems reads season days in UTC: the warning does not
-- depend on the TimeZone of the session that runs the update.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT b.code, string_agg(format('%s: %s', p.field, p.problem), '; ' ORDER BY p.field, p.problem) AS problems
          FROM benefit.benefit b, benefit.list_problems(b.benefit_id) p
         WHERE b.status = 'live' AND p.problem <> 'the validity has already ended'
         GROUP BY b.code
         ORDER BY b.code
    LOOP
        RAISE WARNING 'live benefit "%" is incomplete: %', r.code, r.problems
            USING HINT = 'Suspend it with benefit.suspend(), fix it, then call benefit.go_live() again.';
    END LOOP;
END
$$;

--------------------------------------------------------------------------
-- Isolation levels
--
-- Under REPEATABLE READ and SERIALIZABLE a transaction sees the rows of its
-- snapshot, and locking or updating a row that another transaction changed
-- since fails with 40001.  A caller gets a business reason or that clean
-- 40001 (retry the transaction), never another error; the maintenance jobs
-- skip what another call decided since their snapshot instead of failing.
-- READ COMMITTED callers take the same paths as before, at the same cost.
--------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benefit.hold(order_ref text, lines benefit.basket_line[], contact_id bigint, channel text,
                                        held_until timestamptz, codes text[] DEFAULT NULL, promo_code text DEFAULT NULL,
                                        point_of_sale text DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS benefit.priced_basket
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    p record;
    r benefit.priced_basket;
    u record;
    v_ref text := hold.order_ref;
    v_reason benefit.reason;
    v_state benefit.code_state;
    v_constraint text;
    l benefit.priced_line;
BEGIN
    PERFORM benefit.require_writable('benefit.hold()');
    IF v_ref IS NULL OR btrim(v_ref) = '' OR length(v_ref) > 200 THEN
        RAISE EXCEPTION 'order_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    ELSIF hold.held_until IS NULL OR hold.held_until <= now() OR hold.held_until > now() + interval '7 days' THEN
        RAISE EXCEPTION 'held_until must be in the next 7 days' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('held_until was %s.', coalesce(hold.held_until::text, 'NULL'));
    END IF;
    p := benefit.price_guarded(hold.lines, hold.contact_id, hold.channel, hold.point_of_sale, now(), hold.codes,
                               hold.promo_code, hold.client_key);
    r := p.result;
    IF EXISTS (SELECT 1 FROM benefit.order_hold h WHERE h.order_ref = v_ref) THEN
        r.reason := 'order_already_held';
        RETURN r;
    END IF;

    BEGIN
        INSERT INTO benefit.order_hold (order_ref, contact_id, channel, point_of_sale, held_until, promo_code_id,
                                        base_cents, lines_cents, promo_discount_cents, total_cents)
        VALUES (v_ref, hold.contact_id, hold.channel, hold.point_of_sale, hold.held_until, p.promo_id,
                r.base_cents, r.lines_cents, r.promo_discount_cents, r.total_cents);
        FOREACH l IN ARRAY r.lines LOOP
            INSERT INTO benefit.order_line (order_ref, line_no, product_id, performance_id, seat_category_id,
                                            audience_id, quantity, base_price_cents, unit_price_cents, benefit_id,
                                            tariff_id, promo_discount_cents, total_cents)
            VALUES (v_ref, l.line_no, l.product_id, l.performance_id, l.seat_category_id, l.audience_id, l.quantity,
                    l.base_price_cents, l.unit_price_cents, l.benefit_id, l.tariff_id, l.promo_discount_cents,
                    l.total_cents);
        END LOOP;

        -- the lock order of every runtime call: the order row, single-use codes (by code), then
        -- counters (by kind, owner, key)
        FOR u IN SELECT DISTINCT (x ->> 'code')::benefit.code AS code
                   FROM jsonb_array_elements(p.uses) x WHERE x ->> 'code' IS NOT NULL ORDER BY 1 LOOP
            UPDATE benefit.single_use_code c
               SET state = 'held', hold_order = v_ref, hold_until = hold.held_until
             WHERE c.code OPERATOR(benefit.=) u.code
               AND (c.state = 'issued' OR (c.state = 'held' AND c.hold_until < clock_timestamp()))
            RETURNING 'issued'::benefit.code_state INTO v_state;
            IF NOT FOUND THEN
                SELECT c.state INTO v_state FROM benefit.single_use_code c WHERE c.code OPERATOR(benefit.=) u.code;
                RAISE EXCEPTION '%', CASE v_state WHEN 'used' THEN 'already_used' WHEN 'invalidated' THEN 'invalidated'
                                                  ELSE 'held_by_other_order' END
                      USING ERRCODE = 'VB001';
            END IF;
            INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel)
            VALUES (u.code, 'issued', 'held', v_ref, hold.contact_id, hold.channel);
            INSERT INTO benefit.order_code (order_ref, code) VALUES (v_ref, u.code);
        END LOOP;
        -- then counters in lock order: total quota slots, per performance, per contact (by
        -- benefit), then the promo code's slots and per-contact counter
        FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, sum((x ->> 'units')::integer)::integer AS units
                   FROM jsonb_array_elements(p.uses) x GROUP BY 1 ORDER BY 1 LOOP
            IF NOT benefit.take_slots(v_ref, 'benefit_slot', u.benefit_id, u.units) THEN
                RAISE EXCEPTION 'quota_exhausted' USING ERRCODE = 'VB001';
            END IF;
        END LOOP;
        FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, (x ->> 'performance_id')::bigint AS performance_id,
                        sum((x ->> 'units')::integer)::integer AS units, b.quota_per_performance AS lim
                   FROM jsonb_array_elements(p.uses) x
                   JOIN benefit.benefit b ON b.benefit_id = (x ->> 'benefit_id')::bigint
                  WHERE x ->> 'performance_id' IS NOT NULL
                  GROUP BY 1, 2, 4 ORDER BY 1, 2 LOOP
            IF NOT benefit.take_limited(v_ref, 'benefit_performance', u.benefit_id, u.performance_id, u.units, u.lim) THEN
                RAISE EXCEPTION 'performance_quota_exhausted' USING ERRCODE = 'VB001';
            END IF;
        END LOOP;
        IF hold.contact_id IS NOT NULL THEN
            FOR u IN SELECT (x ->> 'benefit_id')::bigint AS benefit_id, sum((x ->> 'units')::integer)::integer AS units,
                            b.quota_per_contact AS lim
                       FROM jsonb_array_elements(p.uses) x
                       JOIN benefit.benefit b ON b.benefit_id = (x ->> 'benefit_id')::bigint
                      WHERE b.quota_per_contact IS NOT NULL
                      GROUP BY 1, 3 ORDER BY 1 LOOP
                IF NOT benefit.take_limited(v_ref, 'benefit_contact', u.benefit_id, hold.contact_id, u.units, u.lim) THEN
                    RAISE EXCEPTION 'contact_quota_exhausted' USING ERRCODE = 'VB001';
                END IF;
            END LOOP;
        END IF;
        IF p.promo_id IS NOT NULL THEN
            IF NOT benefit.take_slots(v_ref, 'promo_slot', p.promo_id, 1) THEN
                RAISE EXCEPTION 'promo_limit_reached' USING ERRCODE = 'VB001';
            END IF;
            IF hold.contact_id IS NOT NULL AND NOT benefit.take_limited(
                    v_ref, 'promo_contact', p.promo_id, hold.contact_id, 1,
                    coalesce((SELECT pc.max_uses_per_contact FROM benefit.promo_code pc WHERE pc.promo_code_id = p.promo_id),
                             2147483647)) THEN
                RAISE EXCEPTION 'promo_contact_limit_reached' USING ERRCODE = 'VB001';
            END IF;
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'VB001' THEN
            r.reason := SQLERRM::benefit.reason;    -- everything above is rolled back
            RETURN r;
        WHEN unique_violation THEN
            -- The same order held concurrently: the violation of the order's primary key proves
            -- it, also when this transaction's snapshot (REPEATABLE READ) cannot see that row.
            -- (SERIALIZABLE raises 40001 before the violation, when it cannot order the two.)
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint = 'order_hold_pkey' THEN
                r.reason := 'order_already_held';
                RETURN r;
            END IF;
            RAISE;
    END;
    r.order_ref := v_ref;
    r.held_until := hold.held_until;
    RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION benefit.expire_holds()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_orders text[];
    v_ref text;
BEGIN
    PERFORM benefit.require_writable('benefit.expire_holds()');
    IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
        -- holds being confirmed or released right now are skipped: that call decides
        WITH due AS (
            SELECT o.order_ref FROM benefit.order_hold o
             WHERE o.state = 'held' AND o.held_until < clock_timestamp()
             ORDER BY o.held_until
             LIMIT 1000
               FOR UPDATE SKIP LOCKED
        ), expired AS (
            UPDATE benefit.order_hold o SET state = 'expired', closed_at = now(), closed_by = SESSION_USER
              FROM due WHERE o.order_ref = due.order_ref
            RETURNING o.order_ref
        )
        SELECT array_agg(e.order_ref ORDER BY e.order_ref) INTO v_orders FROM expired e;
    ELSE
        -- REPEATABLE READ, SERIALIZABLE: the snapshot may still show as held (the same holds
        -- as above) a hold that another run, a confirm or a release has closed since; locking
        -- it fails with 40001.  That call decided: the hold is skipped.  So the holds are
        -- locked one by one, each in a subtransaction (at these isolation levels only); a hold
        -- being closed right now is skipped as above.
        FOR v_ref IN SELECT o.order_ref FROM benefit.order_hold o
                      WHERE o.state = 'held' AND o.held_until < clock_timestamp()
                      ORDER BY o.held_until
                      LIMIT 1000 LOOP
            BEGIN
                PERFORM FROM benefit.order_hold o WHERE o.order_ref = v_ref FOR UPDATE SKIP LOCKED;
                IF FOUND THEN
                    v_orders := v_orders || v_ref;
                END IF;
            EXCEPTION WHEN serialization_failure THEN
                NULL;
            END;
        END LOOP;
        UPDATE benefit.order_hold o SET state = 'expired', closed_at = now(), closed_by = SESSION_USER
         WHERE o.order_ref = ANY (v_orders);
    END IF;
    IF v_orders IS NULL THEN
        RETURN 0;
    END IF;
    -- the common lock order: order rows (locked above), codes, counters; a code or counter
    -- changed since the snapshot (REPEATABLE READ, SERIALIZABLE) fails the call with 40001
    PERFORM benefit.lock_codes(v_orders);
    PERFORM benefit.settle(v_orders, false);
    PERFORM benefit.release_codes(v_orders, 'hold expired');
    RETURN cardinality(v_orders);
END
$$;
COMMENT ON FUNCTION benefit.expire_holds() IS
    'Gives back the units, codes and promo uses of holds past their deadline (at most 1,000 a call; run it every minute, e.g. with pg_cron); safe to run concurrently: a hold being confirmed or released right now (SKIP LOCKED), or closed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, is skipped; returns how many holds expired';

CREATE OR REPLACE FUNCTION benefit.expire_code_holds()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    n bigint := 0;
    k record;
BEGIN
    PERFORM benefit.require_writable('benefit.expire_code_holds()');
    IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
        WITH expired AS (
            UPDATE benefit.single_use_code sc SET state = 'issued', hold_order = NULL, hold_until = NULL
              FROM (SELECT c.code, c.hold_order FROM benefit.single_use_code c
                     WHERE c.state = 'held' AND c.hold_until < now()
                       FOR UPDATE SKIP LOCKED) old
             WHERE sc.code OPERATOR(benefit.=) old.code AND sc.state = 'held' AND sc.hold_until < now()
            RETURNING sc.code, old.hold_order
        ), logged AS (
            INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, reason)
            SELECT e.code, 'held', 'issued', e.hold_order, 'hold expired' FROM expired e
            RETURNING 1
        )
        SELECT count(*) INTO n FROM logged;
        RETURN n;
    END IF;
    -- REPEATABLE READ, SERIALIZABLE: a code whose hold another run expired, or that an order
    -- used or held again, since the snapshot fails to lock (40001): skip it, as a code being
    -- used right now is skipped; one subtransaction per code, at these isolation levels only
    FOR k IN SELECT c.code, c.hold_order FROM benefit.single_use_code c
              WHERE c.state = 'held' AND c.hold_until < now() LOOP
        BEGIN
            UPDATE benefit.single_use_code sc SET state = 'issued', hold_order = NULL, hold_until = NULL
              FROM (SELECT c.code FROM benefit.single_use_code c
                     WHERE c.code OPERATOR(benefit.=) k.code FOR UPDATE SKIP LOCKED) old
             WHERE sc.code OPERATOR(benefit.=) old.code;
            IF FOUND THEN
                INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, reason)
                VALUES (k.code, 'held', 'issued', k.hold_order, 'hold expired');
                n := n + 1;
            END IF;
        EXCEPTION WHEN serialization_failure THEN
            NULL;
        END;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION benefit.expire_code_holds() IS
    'Returns codes whose hold deadline has passed to issued, with a history row each; returns how many; safe to run concurrently (rows being used right now, or changed since the snapshot of a REPEATABLE READ or SERIALIZABLE caller, are skipped and caught next time if still due); an expired hold never blocks another order (redeem_code and hold_code ignore it)';
