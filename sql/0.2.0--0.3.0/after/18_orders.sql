-- 0.3.0, the order ledger (sql/src/18_orders.sql): the codes used before the
-- update, by redeem_code, which took no quota unit and wrote no order, become
-- codes orders, confirmed when the code was used, each code one unit of its
-- benefit's total quota (on the slot with the most room) and of the contact's
-- limit; so benefit_usage and code_dashboard count the same uses.  A code whose
-- order reference is a basket of its own is left out (the basket holds it, or
-- the reference names another order).  A benefit already sold beyond its quota
-- by such codes keeps the units: the slot that takes one past its cap has its
-- cap raised to match (left shows 0).  Marked closed_by 'benefit 0.3.0 update'.
DO $$
DECLARE
    k record;
    v_key bigint;
BEGIN
    FOR k IN SELECT c.code, c.benefit_id, c.used_order, c.used_by_contact, c.used_at, b.quota_per_contact
               FROM benefit.single_use_code c
               JOIN benefit.benefit b ON b.benefit_id = c.benefit_id
              WHERE c.state = 'used' AND c.used_order IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM benefit.order_code oc WHERE oc.code OPERATOR(benefit.=) c.code)
              ORDER BY c.used_at, c.code LOOP
        INSERT INTO benefit.order_hold (order_ref, kind, state, contact_id, channel, held_until, base_cents,
                                        lines_cents, promo_discount_cents, total_cents, created_at, closed_at, closed_by)
        VALUES (k.used_order, 'codes', 'confirmed', k.used_by_contact, NULL, k.used_at, 0, 0, 0, 0, k.used_at,
                k.used_at, 'benefit 0.3.0 update')
        ON CONFLICT (order_ref) DO NOTHING;
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM benefit.order_hold h
                                   WHERE h.order_ref = k.used_order AND h.closed_by = 'benefit 0.3.0 update');
        INSERT INTO benefit.order_code (order_ref, code, units) VALUES (k.used_order, k.code, 1);
        v_key := NULL;
        SELECT ct.key INTO v_key FROM benefit.counter ct
         WHERE ct.kind = 'benefit_slot' AND ct.owner_id = k.benefit_id
         ORDER BY coalesce(ct.cap - ct.held - ct.used, 2147483647) DESC, ct.key LIMIT 1;
        IF v_key IS NOT NULL THEN
            UPDATE benefit.counter ct
               SET used = ct.used + 1,
                   cap = CASE WHEN ct.cap IS NOT NULL AND ct.held + ct.used + 1 > ct.cap THEN ct.held + ct.used + 1
                              ELSE ct.cap END
             WHERE ct.kind = 'benefit_slot' AND ct.owner_id = k.benefit_id AND ct.key = v_key;
            INSERT INTO benefit.order_hold_counter AS o (order_ref, kind, owner_id, key, units)
            VALUES (k.used_order, 'benefit_slot', k.benefit_id, v_key, 1)
            ON CONFLICT (order_ref, kind, owner_id, key) DO UPDATE SET units = o.units + 1;
        END IF;
        IF k.used_by_contact IS NOT NULL AND k.quota_per_contact IS NOT NULL THEN
            INSERT INTO benefit.counter AS ct (kind, owner_id, key, used)
            VALUES ('benefit_contact', k.benefit_id, k.used_by_contact, 1)
            ON CONFLICT (kind, owner_id, key) DO UPDATE SET used = ct.used + 1;
            INSERT INTO benefit.order_hold_counter AS o (order_ref, kind, owner_id, key, units)
            VALUES (k.used_order, 'benefit_contact', k.benefit_id, k.used_by_contact, 1)
            ON CONFLICT (order_ref, kind, owner_id, key) DO UPDATE SET units = o.units + 1;
        END IF;
    END LOOP;
END
$$;
