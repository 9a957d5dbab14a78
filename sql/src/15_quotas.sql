/*
 * Quotas: units held and used against a benefit's quotas (total, per
 * performance, per contact) and a promo code's use limits (total, per
 * contact).  A total is split into 16 slots that buyers lock independently,
 * created with the benefit or promo code and spread again whenever the total
 * changes (maintain_slots); take_slots and take_limited (C, src/quota.c)
 * reserve units for an order; units_left says what a buyer can still take.
 *
 * Every runtime call locks in one order: order rows, then single-use codes
 * (by code), then counter rows (by kind, owner, key); the only lock taken
 * out of that order is a slot tried with SKIP LOCKED, which never waits and
 * is let go when useless.  So concurrent holds, confirms, releases and
 * expiries never deadlock.  An operator's edit of a limit (spread_slots) may
 * come in any order (one UPDATE of several benefits goes in physical order; a
 * transaction may edit a promo code before a benefit), so it does not wait
 * for a slot: it locks the free ones with SKIP LOCKED, puts a raise on them
 * or takes a cut from their free room, and when they do not give enough it
 * retries for about 0.3 s, then fails with 55P03.  (SKIP LOCKED still waits
 * when a slot's updater commits just as it is tried and a buyer holds the
 * newer version: lock_timeout ends such a wait after 5 ms, and the try
 * counts as failed.)  A buyer may wait for an operator's slots; an operator
 * waits for a buyer's 5 ms at most, far less than deadlock_timeout, so the
 * deadlock check never finds a buyer waiting in a cycle with an operator.
 * Transactions editing limits take one advisory lock first
 * (serialize_limit_edits), so operators do not deadlock each other either.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.counter_kind AS ENUM ('benefit_slot', 'benefit_performance', 'benefit_contact',
                                          'promo_slot', 'promo_contact', 'promo_budget');
COMMENT ON TYPE benefit.counter_kind IS
    'Which counter a hold reserved units on; also the order in which every runtime call locks counters (with owner and key, after order rows and single-use codes), so that concurrent calls never deadlock';
REVOKE ALL ON TYPE benefit.counter_kind FROM PUBLIC;
GRANT USAGE ON TYPE benefit.counter_kind TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.counter (
    kind        benefit.counter_kind NOT NULL,
    owner_id    bigint NOT NULL,
    key         bigint NOT NULL,
    cap         integer,
    held        integer NOT NULL DEFAULT 0,
    used        integer NOT NULL DEFAULT 0,
    CONSTRAINT counter_pkey PRIMARY KEY (kind, owner_id, key),
    CONSTRAINT counter_units_check CHECK (held >= 0 AND used >= 0 AND (cap IS NULL OR held + used <= cap)),
    CONSTRAINT counter_cap_check CHECK (cap >= 0)
) WITH (fillfactor = 50);
COMMENT ON TABLE benefit.counter IS
    'Units held and used: a benefit''s total quota, a promo code''s total limit and its budget (in cents) split into 16 slots (key 0-15, each with its cap) that buyers lock independently; per performance, per contact of a benefit and per contact of a promo code, one row each (key: performance or contact id, checked against the benefit''s or promo code''s current limit); written only by the runtime functions (fillfactor 50 and no index on held/used, so updates stay HOT)';
COMMENT ON COLUMN benefit.counter.kind IS 'benefit_slot, benefit_performance, benefit_contact, promo_slot, promo_contact or promo_budget (a promo code''s budget slots, in cents)';
COMMENT ON COLUMN benefit.counter.owner_id IS 'The benefit or promo code';
COMMENT ON COLUMN benefit.counter.key IS 'Slot number (0-15), performance id or contact id';
COMMENT ON COLUMN benefit.counter.cap IS 'Units this slot may hold and use in all (slots only; NULL: no limit)';
COMMENT ON COLUMN benefit.counter.held IS 'Units reserved by open holds';
COMMENT ON COLUMN benefit.counter.used IS 'Units used by confirmed orders';
COMMENT ON CONSTRAINT counter_units_check ON benefit.counter IS
    'never negative, and a slot never holds and uses more than its cap: the last guard against overselling';
COMMENT ON CONSTRAINT counter_cap_check ON benefit.counter IS 'a cap is not negative';
SELECT pg_catalog.pg_extension_config_dump('benefit.counter', '');
REVOKE ALL ON TABLE benefit.counter FROM PUBLIC;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.spread_slots(p_kind benefit.counter_kind, p_owner bigint, p_total integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET lock_timeout = '5ms'
AS $$
DECLARE
    v_slots integer;
    v_capped integer;       -- slots with a cap: 16 under a limit, 0 without one
    v_caps bigint;          -- the limit the caps add up to now
    v_taken bigint;
    v_keys bigint[];        -- the slots locked by this call, in key order
    v_n integer;
    v_free bigint;          -- their room not held or used
    v_room bigint;          -- the room they keep after the change
    v_want integer := 16;   -- how many free slots to lock
    v_start integer := floor(random() * 16)::integer;
    v_try integer := 0;
BEGIN
    SELECT count(*), count(c.cap), sum(c.cap), sum(c.held + c.used) INTO v_slots, v_capped, v_caps, v_taken
      FROM benefit.counter c WHERE c.kind = p_kind AND c.owner_id = p_owner;
    IF v_slots < 16 THEN
        -- a new benefit or promo code: no other transaction sees its slots yet
        INSERT INTO benefit.counter (kind, owner_id, key)
        SELECT p_kind, p_owner, k FROM generate_series(0, 15) k
        ON CONFLICT DO NOTHING;
    ELSIF (p_total IS NULL AND v_capped = 0) OR (v_capped = 16 AND p_total = v_caps) THEN
        RETURN;                                     -- nothing changes
    ELSIF p_total < v_taken THEN
        RAISE EXCEPTION 'cannot set the limit below the % units already held or used', v_taken
              USING ERRCODE = 'object_not_in_prerequisite_state';
    ELSIF v_capped = 16 AND p_total > v_caps THEN
        -- a raise by less than 16 needs that many slots (one unit each), from a random one on
        v_want := least(p_total - v_caps, 16);
    END IF;
    LOOP
        -- Never wait for a slot: a buyer holding one may be waiting for a lock this
        -- transaction holds (another benefit's slots, a promo code's).  The slots no other
        -- transaction holds are locked (those this one locked before included), as many
        -- as needed (lowering, adding or removing a limit: all of them).
        BEGIN
            SELECT array_agg(c.key ORDER BY c.key), count(*), sum(c.cap - c.held - c.used), sum(c.held + c.used)
              INTO v_keys, v_n, v_free, v_taken
              FROM (SELECT key, cap, held, used FROM benefit.counter
                     WHERE kind = p_kind AND owner_id = p_owner
                     ORDER BY (key + v_start) % 16 LIMIT v_want FOR UPDATE SKIP LOCKED) c;
        EXCEPTION WHEN lock_not_available THEN
            -- SKIP LOCKED can still wait: when the buyer that had updated a slot commits just as
            -- it is tried, PostgreSQL locks the slot's newer version, waiting for whoever holds
            -- it.  lock_timeout (this function's setting) ends that wait; this try failed.
            v_n := 0;
        END;
        IF v_n = 16 THEN
            -- every slot: the room not held or used spread evenly over them (NULL: no limit)
            IF p_total < v_taken THEN
                RAISE EXCEPTION 'cannot set the limit below the % units already held or used', v_taken
                      USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            UPDATE benefit.counter c
               SET cap = CASE WHEN p_total IS NULL THEN NULL
                              ELSE c.held + c.used + (p_total - v_taken) / 16
                                   + CASE WHEN c.key < (p_total - v_taken) % 16 THEN 1 ELSE 0 END END
             WHERE c.kind = p_kind AND c.owner_id = p_owner;
            RETURN;
        ELSIF v_n > 0 AND p_total IS NOT NULL AND v_capped = 16 THEN
            -- a limit raised or lowered: the slots locked keep their free room plus the change
            -- (never below nothing), spread evenly over them; the others keep their caps
            v_room := v_free + (p_total - v_caps);
            IF v_room >= 0 THEN
                UPDATE benefit.counter c
                   SET cap = c.held + c.used + v_room / v_n + CASE WHEN k.i <= v_room % v_n THEN 1 ELSE 0 END
                  FROM unnest(v_keys) WITH ORDINALITY k(key, i)
                 WHERE c.kind = p_kind AND c.owner_id = p_owner AND c.key = k.key;
                RETURN;
            END IF;
        END IF;
        -- not enough: buyers keep a slot for milliseconds, so try again shortly (20 times in
        -- about 0.3 s), then give up
        v_try := v_try + 1;
        IF v_try > 20 THEN
            RAISE EXCEPTION 'could not change the % of % "%" now: buyers are using its slots',
                  CASE p_kind WHEN 'benefit_slot' THEN 'total quota' ELSE 'total use limit' END,
                  CASE p_kind WHEN 'benefit_slot' THEN 'benefit' ELSE 'promo code' END,
                  CASE p_kind WHEN 'benefit_slot' THEN (SELECT b.code FROM benefit.benefit b WHERE b.benefit_id = p_owner)
                              ELSE (SELECT p.code FROM benefit.promo_code p WHERE p.promo_code_id = p_owner) END
                  USING ERRCODE = 'lock_not_available',
                        DETAIL = CASE WHEN p_total IS NULL OR v_capped = 0
                                      THEN format('Adding or removing a limit needs all 16 slots at once, and buyers were using %s of them.',
                                                  16 - v_n)
                                      WHEN p_total > v_caps
                                      THEN 'Raising the limit needs one slot no buyer is using, and all 16 were in use.'
                                      ELSE format('Lowering the limit by %s needs that much room on slots no buyer is using, and those had %s.',
                                                  v_caps - p_total, coalesce(v_free, 0)) END,
                        HINT = 'Retry the edit: an edit of a limit never waits for buyers, who keep a slot for a few milliseconds.';
        END IF;
        PERFORM pg_catalog.pg_sleep(0.002 * least(v_try, 10));
    END LOOP;
END
$$;
COMMENT ON FUNCTION benefit_internal.spread_slots(benefit.counter_kind, bigint, integer) IS
    'Creates the 16 slots of a benefit''s total quota or a promo code''s total limit if missing, and sets their caps so that they add up to the limit (NULL: no limit) without ever waiting for a slot a buyer holds: it locks free slots (SKIP LOCKED; for a raise by less than 16, that many from a random one) and puts a raise on them or takes a cut from their free room; when they do not give enough (adding or removing a limit needs all 16), it retries 20 times within about 0.3 s (a try that has to wait gives up after 5 ms: lock_timeout), then fails with 55P03; 55000 below the units held or used; called by triggers';
REVOKE ALL ON FUNCTION benefit_internal.spread_slots(benefit.counter_kind, bigint, integer) FROM PUBLIC;

CREATE FUNCTION benefit_internal.maintain_slots()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF TG_TABLE_NAME = 'benefit' THEN
        IF TG_OP = 'INSERT' OR NEW.quota_total IS DISTINCT FROM OLD.quota_total THEN
            PERFORM benefit_internal.spread_slots('benefit_slot', NEW.benefit_id, NEW.quota_total);
        END IF;
    ELSIF TG_OP = 'INSERT' OR NEW.max_uses_total IS DISTINCT FROM OLD.max_uses_total THEN
        PERFORM benefit_internal.spread_slots('promo_slot', NEW.promo_code_id, NEW.max_uses_total);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.maintain_slots() IS
    'Trigger: keeps the quota slots of a benefit (quota_total) or the use slots of a promo code (max_uses_total) in step with its limit (spread_slots: never waits for a buyer; 55P03 when buyers keep the slots it needs)';
REVOKE ALL ON FUNCTION benefit_internal.maintain_slots() FROM PUBLIC;

CREATE FUNCTION benefit_internal.serialize_limit_edits()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- one transaction editing limits at a time, until it ends: two operators' edits of
    -- several benefits in different orders (one UPDATE goes in physical order) wait for
    -- each other before locking any row instead of deadlocking; buyers never take it
    PERFORM pg_catalog.pg_advisory_xact_lock('benefit.counter'::pg_catalog.regclass::pg_catalog.oid::bigint);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION benefit_internal.serialize_limit_edits() IS
    'Statement trigger: serialises the transactions that edit limits of benefits or promo codes (a transaction-level advisory lock, key the oid of benefit.counter, taken before any row is locked), so that operators editing several limits in different orders wait for each other instead of deadlocking';
REVOKE ALL ON FUNCTION benefit_internal.serialize_limit_edits() FROM PUBLIC;

CREATE FUNCTION benefit_internal.take_slots(p_order text, p_kind benefit.counter_kind, p_owner bigint, p_units integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_take_slots'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit_internal.take_slots(text, benefit.counter_kind, bigint, integer) IS
    '(C, src/quota.c) Reserves units on the 16 slots of a benefit''s total quota or a promo code''s total limit for an order: a random free slot first (SKIP LOCKED, no wait), else every slot in key order (waiting); false when the limit has no room left';
REVOKE ALL ON FUNCTION benefit_internal.take_slots(text, benefit.counter_kind, bigint, integer) FROM PUBLIC;

CREATE FUNCTION benefit_internal.take_limited(p_order text, p_kind benefit.counter_kind, p_owner bigint, p_key bigint,
                                              p_units integer, p_limit integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_take_limited'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit_internal.take_limited(text, benefit.counter_kind, bigint, bigint, integer, integer) IS
    '(C, src/quota.c) Reserves units on a per-performance or per-contact counter for an order if the limit leaves room; false otherwise';
REVOKE ALL ON FUNCTION benefit_internal.take_limited(text, benefit.counter_kind, bigint, bigint, integer, integer) FROM PUBLIC;

CREATE FUNCTION benefit_internal.units_left(p_benefit_id bigint, p_contact_id bigint,
                                            OUT total_left integer, OUT contact_left integer)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT CASE WHEN b.quota_total IS NOT NULL THEN
               greatest(b.quota_total - coalesce((SELECT sum(ct.held + ct.used) FROM benefit.counter ct
                                                   WHERE ct.kind = 'benefit_slot' AND ct.owner_id = b.benefit_id), 0),
                        0)::integer END,
           CASE WHEN b.quota_per_contact IS NOT NULL THEN
               greatest(b.quota_per_contact - coalesce((SELECT ct.held + ct.used FROM benefit.counter ct
                                                         WHERE ct.kind = 'benefit_contact' AND ct.owner_id = b.benefit_id
                                                           AND ct.key = p_contact_id), 0),
                        0) END
      INTO units_left.total_left, units_left.contact_left
      FROM benefit.benefit b
     WHERE b.benefit_id = p_benefit_id;
END
$$;
COMMENT ON FUNCTION benefit_internal.units_left(bigint, bigint) IS
    'Units of a benefit not yet held or used: of its total quota, and of the contact''s own limit (quota_per_contact; for an anonymous buyer, NULL contact, the whole limit); NULL where there is no limit; never below 0 (PL/pgSQL: its plan is kept for the session)';
REVOKE ALL ON FUNCTION benefit_internal.units_left(bigint, bigint) FROM PUBLIC;

--------------------------------------------------------------------------
-- Triggers
--------------------------------------------------------------------------

CREATE TRIGGER benefit_slots_trg
    AFTER INSERT OR UPDATE OF quota_total ON benefit.benefit
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.maintain_slots();
COMMENT ON TRIGGER benefit_slots_trg ON benefit.benefit IS 'Creates the quota slots of a new benefit and spreads them again when quota_total changes';

CREATE TRIGGER promo_code_slots_trg
    AFTER INSERT OR UPDATE OF max_uses_total ON benefit.promo_code
    FOR EACH ROW EXECUTE FUNCTION benefit_internal.maintain_slots();
COMMENT ON TRIGGER promo_code_slots_trg ON benefit.promo_code IS 'Creates the use slots of a new promo code and spreads them again when max_uses_total changes';

CREATE TRIGGER benefit_limit_edits_trg
    BEFORE UPDATE OF quota_total, quota_per_performance, quota_per_contact, quota_per_order ON benefit.benefit
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.serialize_limit_edits();
COMMENT ON TRIGGER benefit_limit_edits_trg ON benefit.benefit IS 'One transaction editing limits at a time (before any row is locked)';

CREATE TRIGGER promo_code_limit_edits_trg
    BEFORE UPDATE OF max_uses_total, max_uses_per_contact ON benefit.promo_code
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.serialize_limit_edits();
COMMENT ON TRIGGER promo_code_limit_edits_trg ON benefit.promo_code IS 'One transaction editing limits at a time (before any row is locked)';
