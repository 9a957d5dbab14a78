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
 * expiries never deadlock.
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
AS $$
DECLARE
    v_taken bigint;
BEGIN
    INSERT INTO benefit.counter (kind, owner_id, key)
    SELECT p_kind, p_owner, k FROM generate_series(0, 15) k
    ON CONFLICT DO NOTHING;
    -- lock the slots in key order, the order every runtime call locks them in
    SELECT sum(c.held + c.used) INTO v_taken
      FROM (SELECT held, used FROM benefit.counter
             WHERE kind = p_kind AND owner_id = p_owner ORDER BY key FOR UPDATE) c;
    IF p_total < v_taken THEN
        RAISE EXCEPTION 'cannot set the limit below the % units already held or used', v_taken
              USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE benefit.counter c
       SET cap = CASE WHEN p_total IS NULL THEN NULL
                      ELSE c.held + c.used + (p_total - v_taken) / 16
                           + CASE WHEN c.key < (p_total - v_taken) % 16 THEN 1 ELSE 0 END END
     WHERE c.kind = p_kind AND c.owner_id = p_owner;
END
$$;
COMMENT ON FUNCTION benefit_internal.spread_slots(benefit.counter_kind, bigint, integer) IS
    'Creates the 16 slots of a benefit''s total quota or a promo code''s total limit if missing, and spreads the units not yet held or used evenly over them (NULL: no limit); called by triggers';
REVOKE ALL ON FUNCTION benefit_internal.spread_slots(benefit.counter_kind, bigint, integer) FROM PUBLIC;

CREATE FUNCTION benefit_internal.maintain_slots()
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
COMMENT ON FUNCTION benefit_internal.maintain_slots() IS
    'Trigger: keeps the quota slots of a benefit (quota_total) or the use slots of a promo code (max_uses_total) in step with its limit';
REVOKE ALL ON FUNCTION benefit_internal.maintain_slots() FROM PUBLIC;

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
