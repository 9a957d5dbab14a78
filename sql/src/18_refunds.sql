/*
 * Refunds: benefit.refund gives back, after payment, what a confirmed order
 * used, for the whole order or for some units of some of its lines, and
 * records each refund under the application's refund reference.
 *
 * The rules (README, "Refunds"):
 *   - Only a confirmed order is refunded: unknown_order, not_confirmed (held,
 *     released, expired, or already wholly refunded).
 *   - Idempotent per refund reference: the same call again answers ok and
 *     changes nothing; the same reference for another order or other lines
 *     is an error (22023).  Asking more units than a line has left, an
 *     unknown line, a quantity under 1: 22023 naming the line.  Every check
 *     comes before the first write: a refused refund writes nothing.
 *   - Quota units: the refunded units of a line are given back on the very
 *     counter rows the order reserved (order_hold_counter): its benefit's
 *     total-quota slots (taken greedily, by key), its performance's counter,
 *     the order's contact's counter; order_refund_counter records how many
 *     units each refund gave back on each row, so that refunds together never
 *     give back more than the order used.  The per-order quota has no counter.
 *   - The refund that leaves nothing to refund (all units of all lines; a
 *     codes order, which has no lines, is only refunded whole) gives back
 *     everything the order still holds on every counter, the promo code's use
 *     (and any other promo counter) included, and the order becomes refunded.
 *     A partial refund never gives the promo use back.
 *   - Single-use codes: a code returns to issued (used_at, used_by_contact,
 *     used_order cleared; code_history 'used' -> 'issued', reason 'refunded'),
 *     so that its holder may use it again, as soon as the units of its
 *     benefit still sold in the order are covered by the order's other codes
 *     of that benefit; codes are given back from the highest code down.  A
 *     code without units (it covers every unit of its benefit in the order)
 *     returns when all of them are refunded.
 *   - Tickets: the refund marks as refunded as many of the order's tickets of
 *     the benefit as it refunds units of it, choosing the tickets of the codes
 *     it gives back first, then unscanned before scanned, then the most
 *     recently issued; the refund that completes the order marks every
 *     ticket of the order still valid.  ticket_scanned refuses them.
 *   - Locks: the order row (updated by every refund, so that concurrent
 *     refunds of one order run one after the other, and a REPEATABLE READ or
 *     SERIALIZABLE caller that missed another gets 40001), its codes (by
 *     code), then counter rows (by kind, owner, key): the lock order of
 *     confirm and release.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.refund_line AS (
    line_no     integer,
    quantity    integer
);
COMMENT ON TYPE benefit.refund_line IS
    'A line of a refund: the line number of the order (order_line.line_no) and how many of its units to refund';
REVOKE ALL ON TYPE benefit.refund_line FROM PUBLIC;
GRANT USAGE ON TYPE benefit.refund_line TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.order_refund (
    refund_ref  text NOT NULL,
    order_ref   text NOT NULL,
    whole       boolean NOT NULL,
    completes   boolean NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by_role     name NOT NULL DEFAULT SESSION_USER,
    CONSTRAINT order_refund_pkey PRIMARY KEY (refund_ref),
    CONSTRAINT order_refund_order_ref_fkey FOREIGN KEY (order_ref) REFERENCES benefit.order_hold (order_ref),
    CONSTRAINT order_refund_whole_check CHECK (completes OR NOT whole)
);
CREATE INDEX order_refund_order_ref_idx ON benefit.order_refund (order_ref);
COMMENT ON TABLE benefit.order_refund IS
    'One row per refund made by benefit.refund (the history of refunds): which order, whether it asked for the whole order, whether it left nothing to refund, when and by whom';
COMMENT ON COLUMN benefit.order_refund.refund_ref IS 'The application''s refund reference: a refund is made once per reference';
COMMENT ON COLUMN benefit.order_refund.order_ref IS 'The order refunded';
COMMENT ON COLUMN benefit.order_refund.whole IS 'The call named no lines: everything the order had left was refunded';
COMMENT ON COLUMN benefit.order_refund.completes IS 'After it nothing was left to refund: the order became refunded, its promo use and codes were given back';
COMMENT ON COLUMN benefit.order_refund.at IS 'When';
COMMENT ON COLUMN benefit.order_refund.by_role IS 'Who: the database role of the session';
COMMENT ON CONSTRAINT order_refund_whole_check ON benefit.order_refund IS 'a refund of the whole order leaves nothing to refund';
COMMENT ON INDEX benefit.order_refund_order_ref_idx IS 'Refunds of an order';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_refund', '');
REVOKE ALL ON TABLE benefit.order_refund FROM PUBLIC;
GRANT SELECT ON benefit.order_refund TO benefit_admin;

CREATE TABLE benefit.order_refund_line (
    refund_ref  text NOT NULL,
    order_ref   text NOT NULL,
    line_no     integer NOT NULL,
    quantity    integer NOT NULL,
    CONSTRAINT order_refund_line_pkey PRIMARY KEY (refund_ref, line_no),
    CONSTRAINT order_refund_line_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_refund_line_refund_ref_fkey FOREIGN KEY (refund_ref) REFERENCES benefit.order_refund (refund_ref),
    CONSTRAINT order_refund_line_order_ref_line_no_fkey FOREIGN KEY (order_ref, line_no)
        REFERENCES benefit.order_line (order_ref, line_no)
);
CREATE INDEX order_refund_line_order_ref_line_no_idx ON benefit.order_refund_line (order_ref, line_no);
COMMENT ON TABLE benefit.order_refund_line IS
    'The units each refund gave back, line by line (a refund of the whole order lists every line with the units it had left)';
COMMENT ON COLUMN benefit.order_refund_line.refund_ref IS 'The refund';
COMMENT ON COLUMN benefit.order_refund_line.order_ref IS 'The order (that of the refund)';
COMMENT ON COLUMN benefit.order_refund_line.line_no IS 'The line of the order';
COMMENT ON COLUMN benefit.order_refund_line.quantity IS 'Units of the line refunded';
COMMENT ON CONSTRAINT order_refund_line_quantity_check ON benefit.order_refund_line IS 'quantity must be positive';
COMMENT ON INDEX benefit.order_refund_line_order_ref_line_no_idx IS 'Refunded units of a line';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_refund_line', '');
REVOKE ALL ON TABLE benefit.order_refund_line FROM PUBLIC;
GRANT SELECT ON benefit.order_refund_line TO benefit_admin;

CREATE TABLE benefit.order_refund_counter (
    refund_ref  text NOT NULL,
    order_ref   text NOT NULL,
    kind        benefit.counter_kind NOT NULL,
    owner_id    bigint NOT NULL,
    key         bigint NOT NULL,
    units       integer NOT NULL,
    CONSTRAINT order_refund_counter_pkey PRIMARY KEY (refund_ref, kind, owner_id, key),
    CONSTRAINT order_refund_counter_units_check CHECK (units > 0),
    CONSTRAINT order_refund_counter_refund_ref_fkey FOREIGN KEY (refund_ref) REFERENCES benefit.order_refund (refund_ref),
    CONSTRAINT order_refund_counter_order_ref_kind_owner_id_key_fkey FOREIGN KEY (order_ref, kind, owner_id, key)
        REFERENCES benefit.order_hold_counter (order_ref, kind, owner_id, key)
);
CREATE INDEX order_refund_counter_order_ref_idx ON benefit.order_refund_counter (order_ref, kind, owner_id, key);
COMMENT ON TABLE benefit.order_refund_counter IS
    'The units each refund gave back on each counter row its order had reserved (order_hold_counter): together never more than the order used';
COMMENT ON COLUMN benefit.order_refund_counter.refund_ref IS 'The refund';
COMMENT ON COLUMN benefit.order_refund_counter.order_ref IS 'The order (that of the refund)';
COMMENT ON COLUMN benefit.order_refund_counter.kind IS 'Counter kind';
COMMENT ON COLUMN benefit.order_refund_counter.owner_id IS 'Counter owner (benefit or promo code)';
COMMENT ON COLUMN benefit.order_refund_counter.key IS 'Counter key (slot, performance or contact)';
COMMENT ON COLUMN benefit.order_refund_counter.units IS 'Units given back (taken off the counter''s used)';
COMMENT ON CONSTRAINT order_refund_counter_units_check ON benefit.order_refund_counter IS 'units must be positive';
COMMENT ON INDEX benefit.order_refund_counter_order_ref_idx IS 'Units already given back on a counter row of an order';
SELECT pg_catalog.pg_extension_config_dump('benefit.order_refund_counter', '');
REVOKE ALL ON TABLE benefit.order_refund_counter FROM PUBLIC;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.refund(order_ref text, refund_ref text, lines benefit.refund_line[] DEFAULT NULL)
RETURNS benefit.reason
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h record;
    r record;
    x record;
    v_ref text := refund.order_ref;
    v_refund text := refund.refund_ref;
    v_lines integer[];                  -- the lines refunded now and their units
    v_units integer[];
    v_left bigint;                      -- units the order has left after this refund
    v_complete boolean;
    v_counters jsonb := '[]';           -- what goes back on each counter row
    v_codes benefit.code[] := '{}';     -- the codes given back
    v_cover bigint;
    i integer;
BEGIN
    PERFORM benefit_internal.require_writable('benefit.refund()');
    IF v_ref IS NULL OR v_refund IS NULL THEN
        RAISE EXCEPTION 'order_ref and refund_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM benefit_internal.check_order_ref(v_ref);
    IF length(v_refund) > 200 OR btrim(v_refund, E' \t\r\n\f\v') = '' THEN
        RAISE EXCEPTION 'refund_ref must be 1 to 200 characters, not blank' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF refund.lines IS NOT NULL THEN
        IF cardinality(refund.lines) = 0 THEN
            RAISE EXCEPTION 'lines must not be empty' USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give NULL to refund the whole order.';
        END IF;
        FOR i IN 1 .. cardinality(refund.lines) LOOP
            IF refund.lines[i] IS NULL OR (refund.lines[i]).line_no IS NULL OR (refund.lines[i]).quantity IS NULL THEN
                RAISE EXCEPTION 'refund line % must have a line number and a quantity', i
                      USING ERRCODE = 'null_value_not_allowed';
            ELSIF (refund.lines[i]).quantity < 1 THEN
                RAISE EXCEPTION 'quantity of line % must be positive', (refund.lines[i]).line_no
                      USING ERRCODE = 'invalid_parameter_value',
                            DETAIL = format('The refund asked for %s units.', (refund.lines[i]).quantity);
            END IF;
        END LOOP;
        SELECT l.line_no INTO i FROM unnest(refund.lines) l GROUP BY l.line_no HAVING count(*) > 1 ORDER BY 1 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'line % is given twice', i USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    -- the order row first: refunds, confirm, release and expiry of one order run one after the other
    SELECT * INTO h FROM benefit.order_hold o WHERE o.order_ref = v_ref FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown_order';
    END IF;
    SELECT * INTO r FROM benefit.order_refund f WHERE f.refund_ref = v_refund;
    IF FOUND THEN
        -- the same refund again: ok, nothing changes; the same reference for something else: an error
        IF r.order_ref <> h.order_ref THEN
            RAISE EXCEPTION 'refund "%" is a refund of another order', v_refund USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It refunded order "%s", not "%s".', r.order_ref, h.order_ref);
        ELSIF r.whole <> (refund.lines IS NULL)
              OR (NOT r.whole AND EXISTS (
                    (SELECT l.line_no, l.quantity FROM unnest(refund.lines) l
                     EXCEPT SELECT f.line_no, f.quantity FROM benefit.order_refund_line f WHERE f.refund_ref = v_refund)
                    UNION ALL
                    (SELECT f.line_no, f.quantity FROM benefit.order_refund_line f WHERE f.refund_ref = v_refund
                     EXCEPT SELECT l.line_no, l.quantity FROM unnest(refund.lines) l))) THEN
            RAISE EXCEPTION 'refund "%" was made with other lines', v_refund USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A refund reference names one refund: give a new reference for another refund.';
        END IF;
        RETURN 'ok';
    END IF;
    IF h.state <> 'confirmed' THEN
        RETURN 'not_confirmed';
    END IF;

    -- the units each line has left, and what this refund takes of them
    IF refund.lines IS NULL THEN
        SELECT array_agg(l.line_no ORDER BY l.line_no), array_agg(l.quantity - l.refunded ORDER BY l.line_no)
          INTO v_lines, v_units
          FROM (SELECT l.line_no, l.quantity,
                       coalesce((SELECT sum(f.quantity) FROM benefit.order_refund_line f
                                  WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no), 0) AS refunded
                  FROM benefit.order_line l WHERE l.order_ref = h.order_ref) l
         WHERE l.quantity > l.refunded;
        v_left := 0;
    ELSE
        IF h.kind = 'codes' THEN
            RAISE EXCEPTION 'order "%" has no lines', h.order_ref USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A codes order is refunded whole: give NULL lines.';
        END IF;
        FOR x IN SELECT a.line_no, a.quantity, l.quantity AS sold,
                        l.quantity - coalesce((SELECT sum(f.quantity) FROM benefit.order_refund_line f
                                                WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no), 0) AS unrefunded
                   FROM unnest(refund.lines) a
                   LEFT JOIN benefit.order_line l ON l.order_ref = h.order_ref AND l.line_no = a.line_no
                  ORDER BY a.line_no LOOP
            IF x.sold IS NULL THEN
                RAISE EXCEPTION 'line % is not a line of order "%"', x.line_no, h.order_ref USING ERRCODE = 'invalid_parameter_value';
            ELSIF x.quantity > x.unrefunded THEN
                RAISE EXCEPTION 'line % has % units left to refund', x.line_no, x.unrefunded USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The refund asked for %s of its %s units.', x.quantity, x.sold);
            END IF;
            v_lines := v_lines || x.line_no;
            v_units := v_units || x.quantity;
        END LOOP;
        SELECT coalesce(sum(l.quantity), 0)
               - coalesce((SELECT sum(f.quantity) FROM benefit.order_refund_line f WHERE f.order_ref = h.order_ref), 0)
               - (SELECT sum(u) FROM unnest(v_units) u)
          INTO v_left
          FROM benefit.order_line l WHERE l.order_ref = h.order_ref;
    END IF;
    v_complete := v_left = 0;

    -- the codes (by code), before the counters; then the codes this refund gives back
    PERFORM benefit_internal.lock_codes(ARRAY[h.order_ref]);
    FOR x IN SELECT c.code, c.benefit_id, o.units,
                    -- units of the benefit the order still sells after this refund
                    (SELECT coalesce(sum(l.quantity - f.refunded - coalesce(n.units, 0)), 0)
                       FROM benefit.order_line l
                      CROSS JOIN LATERAL (SELECT coalesce(sum(f.quantity), 0) AS refunded FROM benefit.order_refund_line f
                                           WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no) f
                       LEFT JOIN unnest(v_lines, v_units) n(line_no, units) ON n.line_no = l.line_no
                      WHERE l.order_ref = h.order_ref AND l.benefit_id = c.benefit_id) AS still_sold
               FROM benefit.order_code o
               JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code
              WHERE o.order_ref = h.order_ref AND c.state = 'used' AND c.used_order = h.order_ref
              ORDER BY c.benefit_id, c.code DESC LOOP
        IF v_complete THEN
            v_codes := v_codes || x.code;
            CONTINUE;
        END IF;
        -- what the codes of this benefit still used by the order cover, NULL units counting as every unit
        SELECT sum(coalesce(o.units, 1000000000)) INTO v_cover
          FROM benefit.order_code o
          JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code
         WHERE o.order_ref = h.order_ref AND c.state = 'used' AND c.used_order = h.order_ref
           AND c.benefit_id = x.benefit_id AND NOT c.code OPERATOR(benefit.=) ANY (v_codes);
        IF v_cover - coalesce(x.units, 1000000000) >= x.still_sold THEN
            v_codes := v_codes || x.code;
        END IF;
    END LOOP;

    -- the counter rows: everything the order still holds when the refund completes it; else
    -- the refunded units of each benefit on its total-quota slots (greedily, by key), its
    -- performance's counter and the contact's counter
    WITH given AS (
        SELECT o.kind, o.owner_id, o.key, o.units
               - coalesce((SELECT sum(g.units) FROM benefit.order_refund_counter g
                            WHERE g.order_ref = o.order_ref AND g.kind = o.kind AND g.owner_id = o.owner_id
                              AND g.key = o.key), 0) AS remaining
          FROM benefit.order_hold_counter o WHERE o.order_ref = h.order_ref
    ), asked AS (
        SELECT l.benefit_id, l.performance_id, n.units
          FROM unnest(v_lines, v_units) n(line_no, units)
          JOIN benefit.order_line l ON l.order_ref = h.order_ref AND l.line_no = n.line_no
         WHERE l.benefit_id IS NOT NULL AND NOT v_complete
    ), wanted AS (
        SELECT 'benefit_slot'::benefit.counter_kind AS kind, a.benefit_id AS owner_id, NULL::bigint AS key, sum(a.units) AS units
          FROM asked a GROUP BY a.benefit_id
        UNION ALL
        SELECT 'benefit_performance', a.benefit_id, a.performance_id, sum(a.units)
          FROM asked a WHERE a.performance_id IS NOT NULL GROUP BY a.benefit_id, a.performance_id
        UNION ALL
        SELECT 'benefit_contact', a.benefit_id, h.contact_id, sum(a.units)
          FROM asked a WHERE h.contact_id IS NOT NULL GROUP BY a.benefit_id
    ), back AS (
        SELECT g.kind, g.owner_id, g.key, g.remaining AS units
          FROM given g WHERE v_complete
        UNION ALL
        SELECT g.kind, g.owner_id, g.key,
               least(g.remaining, w.units - coalesce(sum(g.remaining) OVER (PARTITION BY g.kind, g.owner_id, w.key ORDER BY g.key
                                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))
          FROM given g
          JOIN wanted w ON w.kind = g.kind AND w.owner_id = g.owner_id AND (w.key IS NULL OR w.key = g.key)
         WHERE g.remaining > 0
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('kind', b.kind, 'owner_id', b.owner_id, 'key', b.key, 'units', b.units)
                              ORDER BY b.kind, b.owner_id, b.key), '[]')
      INTO v_counters
      FROM back b WHERE b.units > 0;

    -- every check is done: the writes
    BEGIN
        INSERT INTO benefit.order_refund (refund_ref, order_ref, whole, completes)
        VALUES (v_refund, h.order_ref, refund.lines IS NULL, v_complete);
    EXCEPTION WHEN unique_violation THEN
        -- the same reference written meanwhile by a call this one could not see (a refund of
        -- another order, or one a REPEATABLE READ snapshot misses): retrying answers right
        RAISE EXCEPTION 'refund "%" was made concurrently by another call', v_refund
              USING ERRCODE = 'serialization_failure',
                    HINT = 'Retry the transaction: the refund reference then answers ok, or says which order it refunded.';
    END;
    INSERT INTO benefit.order_refund_line (refund_ref, order_ref, line_no, quantity)
    SELECT v_refund, h.order_ref, n.line_no, n.units FROM unnest(v_lines, v_units) n(line_no, units);
    FOR x IN SELECT (c ->> 'kind')::benefit.counter_kind AS kind, (c ->> 'owner_id')::bigint AS owner_id,
                    (c ->> 'key')::bigint AS key, (c ->> 'units')::integer AS units
               FROM jsonb_array_elements(v_counters) c ORDER BY 1, 2, 3 LOOP
        UPDATE benefit.counter c SET used = c.used - x.units
         WHERE c.kind = x.kind AND c.owner_id = x.owner_id AND c.key = x.key;
        INSERT INTO benefit.order_refund_counter (refund_ref, order_ref, kind, owner_id, key, units)
        VALUES (v_refund, h.order_ref, x.kind, x.owner_id, x.key, x.units);
    END LOOP;
    FOR x IN SELECT c FROM unnest(v_codes) c ORDER BY 1 LOOP
        UPDATE benefit.single_use_code c
           SET state = 'issued', used_at = NULL, used_by_contact = NULL, used_order = NULL
         WHERE c.code OPERATOR(benefit.=) x.c;
        INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel, reason)
        VALUES (x.c, 'used', 'issued', h.order_ref, h.contact_id, h.channel, 'refunded');
    END LOOP;
    -- the tickets of the refunded units
    UPDATE benefit.ticket t SET refunded_at = now(), refund_ref = v_refund
      FROM (SELECT k.ticket_ref
              FROM benefit.ticket k
             WHERE k.order_ref = h.order_ref AND k.refunded_at IS NULL AND v_complete
            UNION
            SELECT p.ticket_ref
              FROM (SELECT k.ticket_ref, k.benefit_id,
                           row_number() OVER (PARTITION BY k.benefit_id
                                              ORDER BY (k.code OPERATOR(benefit.=) ANY (v_codes)) IS TRUE DESC,
                                                       k.scanned_at IS NULL DESC, k.issued_at DESC, k.ticket_ref DESC) AS rank
                      FROM benefit.ticket k
                     WHERE k.order_ref = h.order_ref AND k.refunded_at IS NULL AND NOT v_complete) p
              JOIN (SELECT l.benefit_id, sum(n.units) AS units
                      FROM unnest(v_lines, v_units) n(line_no, units)
                      JOIN benefit.order_line l ON l.order_ref = h.order_ref AND l.line_no = n.line_no
                     GROUP BY l.benefit_id) a ON a.benefit_id = p.benefit_id
             WHERE p.rank <= a.units) m
     WHERE t.ticket_ref = m.ticket_ref;
    -- every refund updates the order row (a REPEATABLE READ caller that missed another refund gets 40001)
    UPDATE benefit.order_hold o SET state = CASE WHEN v_complete THEN 'refunded' ELSE o.state END
     WHERE o.order_ref = h.order_ref;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION benefit.refund(text, text, benefit.refund_line[]) IS
    'Refunds a confirmed order, whole (lines NULL) or some units of some lines (line_no, quantity): gives back the quota units of the refunded units, the single-use codes whose units are all refunded (back to issued), and, when nothing is left to refund, the promo-code use and everything else the order used (the order becomes refunded); marks the tickets of the refunded units; ok (also when the same refund_ref is repeated: nothing changes), unknown_order or not_confirmed; 22023 for a refund_ref of another order or other lines, an unknown line, a quantity under 1 or over what the line has left';
REVOKE ALL ON FUNCTION benefit.refund(text, text, benefit.refund_line[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.refund(text, text, benefit.refund_line[]) TO benefit_sales, benefit_admin;
