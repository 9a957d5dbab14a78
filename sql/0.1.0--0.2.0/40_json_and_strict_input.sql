-- 0.2.0: JSON clients and strict input.
--
-- Bad references are refused, not ignored: every runtime call checks its
-- sales channel, point of sale and contact with one rule (src/sale.c; the
-- SQL callers through benefit.resolve_sale): 22023 for an unknown channel or
-- point of sale, or a point of sale of another channel; P0002 for an
-- unknown contact id.  Pricing refuses a basket line whose performance,
-- seat category or audience does not exist (P0002) or whose performance is
-- one of another product (22023).
--
-- What a typed text is ("Code avantage"), read once for every entry point
-- (benefit.read_codes): a partner access code (any case, trimmed) first, then
-- a well-formed single-use code, otherwise unknown.
--
-- What a buyer can still take of a benefit (benefit.units_left) is written
-- once for the SQL side; eligibility reports a benefit sold out
-- (quota_exhausted) or whose per-contact limit the buyer used up
-- (contact_quota_exhausted), available shows the figures, and the gift icon
-- lights only for benefits the contact can still use.  (price, in C, keeps
-- its own statement of the figures: the library also serves databases not
-- yet updated, which have no units_left.)
--
-- A jsonb form of each runtime call a web shop makes, thin wrappers around
-- the typed calls: one parser (benefit.parse_call) reads every key with the
-- name and type of the typed call's argument and refuses an unknown key or a
-- wrong JSON type (22023, naming the key).

--------------------------------------------------------------------------
-- The channel, point of sale and contact of a runtime call
--------------------------------------------------------------------------

-- in C (src/sale.c), which price and redeem_code call directly: one rule for every entry point
CREATE FUNCTION benefit.resolve_sale(channel text, point_of_sale text, contact_id bigint,
                                     channel_required boolean DEFAULT true,
                                     OUT channel_id bigint, OUT channel_kind benefit.channel_kind,
                                     OUT point_of_sale_id bigint)
AS 'MODULE_PATHNAME', 'benefit_resolve_sale'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.resolve_sale(text, text, bigint, boolean) IS
    '(C, src/sale.c; its statement runs with pg_catalog as the only schema searched, pinned in C) The references of a runtime call checked in one place, also by price and redeem_code: the sales channel by code (22004 when NULL and required, 22023 when unknown), the web point of sale by code (22023 when unknown or on another channel than the one given), the contact id (P0002 when unknown; NULL is an anonymous buyer); returns the channel id and kind and the point of sale id';

CREATE OR REPLACE FUNCTION benefit.channel_id(channel text)
RETURNS bigint
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.channel_id FROM benefit.resolve_sale(channel_id.channel, NULL, NULL) r
$$;
COMMENT ON FUNCTION benefit.channel_id(text) IS
    'The id of a sales channel given by code; 22004 for NULL, 22023 for an unknown code (benefit.resolve_sale)';

--------------------------------------------------------------------------
-- What a typed text is: the "Code avantage" box, for every entry point
--------------------------------------------------------------------------

-- Set-based and in PL/pgSQL: one call per statement, its plan kept for the
-- session (a SQL function called from a statement is planned again at every
-- execution of it); strict, so that no call is made when no code was entered.
CREATE FUNCTION benefit.read_codes(texts text[])
RETURNS TABLE (entered text, kind text, benefit_id bigint, code benefit.code)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 2
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a partner access code first: a 13-character access code may also
    -- happen to end in a valid check character (OPERAGRAND264)
    RETURN QUERY
    SELECT t.e,
           CASE WHEN p.benefit_id IS NOT NULL THEN 'partner'
                WHEN t.ok AND benefit.is_valid_code(t.t) THEN 'single_use'
                ELSE 'unknown' END,
           p.benefit_id,
           CASE WHEN p.benefit_id IS NULL AND t.ok AND benefit.is_valid_code(t.t) THEN t.t::benefit.code END
      FROM (SELECT u.e, btrim(u.e) AS t, coalesce(length(u.e) <= 200, false) AS ok
              FROM unnest(read_codes.texts) u(e)) t
      LEFT JOIN benefit.benefit p
        ON t.ok AND lower(p.access_code) = lower(t.t) AND p.target_type = 'partner';
END
$$;
COMMENT ON FUNCTION benefit.read_codes(text[]) IS
    'How every entry point (enter_code, available, price_basket, hold) reads a typed text, for each text given: equal (any case, trimmed) to a partner access code, it is that partner code (kind partner, its benefit); otherwise a well-formed single-use code (kind single_use, the code, whether issued or not); otherwise unknown (NULL, blank, malformed or over 200 characters)';

--------------------------------------------------------------------------
-- What a buyer can still take of a benefit
--------------------------------------------------------------------------

CREATE FUNCTION benefit.units_left(p_benefit_id bigint, p_contact_id bigint,
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
COMMENT ON FUNCTION benefit.units_left(bigint, bigint) IS
    'Units of a benefit not yet held or used: of its total quota, and of the contact''s own limit (quota_per_contact; for an anonymous buyer, NULL contact, the whole limit); NULL where there is no limit; never below 0 (PL/pgSQL: its plan is kept for the session)';

-- eligibility keeps its result type: price (src/pricing.c) reads it, and the
-- library serves databases not yet updated, whose eligibility is 0.1.0's
CREATE OR REPLACE FUNCTION benefit.eligibility(contact_id bigint, channel text, point_of_sale text, at timestamptz,
                                              codes text[])
RETURNS TABLE (benefit_id bigint, target_type benefit.target_type, entered_code text,
               single_use_code benefit.code, reason benefit.reason)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_sale record;
    v_at timestamptz := coalesce(eligibility.at, now());
BEGIN
    SELECT * INTO v_sale FROM benefit.resolve_sale(eligibility.channel, eligibility.point_of_sale, eligibility.contact_id);
    IF cardinality(eligibility.codes) > 100 THEN
        RAISE EXCEPTION 'at most 100 codes may be entered at once, not %', cardinality(eligibility.codes)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY
    WITH entered AS (
        SELECT DISTINCT btrim(e) AS e
          FROM unnest(eligibility.codes) e
         WHERE e IS NOT NULL AND btrim(e) <> ''
    ), rd AS (
        SELECT r.entered AS e, r.kind, r.benefit_id, r.code
          FROM (SELECT array_agg(en.e) AS texts FROM entered en) a
         CROSS JOIN LATERAL benefit.read_codes(a.texts) r
    ), su AS (
        SELECT rd.e, c.code, c.benefit_id, c.state, c.hold_until
          FROM rd
          JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) rd.code
         WHERE rd.kind = 'single_use'
    ), partner AS (
        SELECT DISTINCT ON (rd.benefit_id) rd.e, rd.benefit_id
          FROM rd
         WHERE rd.kind = 'partner'
         ORDER BY rd.benefit_id, rd.e
    ), cand AS (
        SELECT b.benefit_id, NULL::text AS e, NULL::benefit.code AS code, NULL::benefit.reason AS code_reason
          FROM benefit.benefit b WHERE b.target_type = 'public' AND b.status = 'live'
        UNION ALL
        SELECT b.benefit_id, NULL, NULL, NULL
          FROM benefit.campaign_target ct
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
         WHERE ct.contact_id = eligibility.contact_id
        UNION ALL
        SELECT b.benefit_id, NULL, NULL, NULL
          FROM benefit.contact_indicator ci
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
         WHERE ci.contact_id = eligibility.contact_id
        UNION ALL
        SELECT p.benefit_id, p.e, NULL, NULL FROM partner p
        UNION ALL
        SELECT su.benefit_id, su.e, su.code,
               CASE WHEN su.state = 'used' THEN 'already_used'
                    WHEN su.state = 'invalidated' THEN 'invalidated'
                    WHEN su.state = 'held' AND su.hold_until >= v_at THEN 'held_by_other_order'
               END::benefit.reason
          FROM su
    )
    SELECT b.benefit_id, b.target_type, cand.e, cand.code,
           CASE WHEN cand.code_reason IS NOT NULL THEN cand.code_reason
                WHEN b.status <> 'live' THEN 'benefit_not_live'
                WHEN b.valid_from > v_at THEN 'not_yet_valid'
                WHEN b.valid_until <= v_at THEN 'expired'
                WHEN NOT b.all_channels
                     AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                      WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_sale.channel_id)
                THEN 'wrong_channel'
                WHEN b.point_of_sale_id IS NOT NULL AND v_sale.channel_kind = 'web'
                     AND b.point_of_sale_id IS DISTINCT FROM v_sale.point_of_sale_id
                THEN 'wrong_point_of_sale'
                WHEN b.quota_total IS NULL AND b.quota_per_contact IS NULL THEN 'ok'
                -- sold out, or this buyer's own limit used up: looked up last, only when it may be
                ELSE (SELECT CASE WHEN q.total_left = 0 THEN 'quota_exhausted'
                                  WHEN q.contact_left = 0 THEN 'contact_quota_exhausted'
                                  ELSE 'ok' END::benefit.reason
                        FROM benefit.units_left(b.benefit_id, eligibility.contact_id) q)
           END::benefit.reason
      FROM cand
      JOIN benefit.benefit b ON b.benefit_id = cand.benefit_id
    UNION ALL
    SELECT NULL, NULL, rd.e, NULL, 'unknown_code'::benefit.reason
      FROM rd
     WHERE rd.kind = 'unknown'
        OR (rd.kind = 'single_use' AND NOT EXISTS (SELECT 1 FROM su WHERE su.e = rd.e));
END
$$;
COMMENT ON FUNCTION benefit.eligibility(bigint, text, text, timestamptz, text[]) IS
    'The benefits a buyer may be offered on a channel (and web point of sale) at a time, with the codes entered (read by benefit.read_codes): live public benefits, the contact''s contacts and indicator benefits (target list and indicator level read now), and every benefit an entered partner or single-use code points to; each with ok or the reason it cannot be used (quota_exhausted when sold out, contact_quota_exhausted when the contact''s own limit is used up: benefit.units_left); entered codes that match nothing come back as unknown_code; the references are checked by benefit.resolve_sale';

CREATE OR REPLACE FUNCTION benefit.available(contact_id bigint, channel text, at timestamptz DEFAULT NULL,
                                             codes text[] DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                             client_key text DEFAULT NULL)
RETURNS TABLE (benefit_id bigint, benefit_code text, name text, target_type benefit.target_type,
               entered_code text, reason benefit.reason, valid_until timestamptz,
               quota_left integer, tariffs jsonb)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_keyed boolean := available.contact_id IS NOT NULL OR available.client_key IS NOT NULL;
    v_entered text[] := ARRAY(SELECT DISTINCT btrim(e) FROM unnest(available.codes) e
                               WHERE e IS NOT NULL AND btrim(e) <> '' ORDER BY 1);
    v_throttled boolean;
    v_unknown integer := 0;
    r record;
BEGIN
    -- entered codes from a throttled contact or client key are not looked at
    v_throttled := v_keyed AND cardinality(v_entered) > 0
                   AND benefit.is_throttled(available.contact_id, available.client_key);
    FOR r IN
        WITH e AS (
            SELECT el.* FROM benefit.eligibility(available.contact_id, available.channel, available.point_of_sale,
                                                 available.at, CASE WHEN v_throttled THEN NULL ELSE available.codes END) el
             -- usable ones, those this buyer can no longer use (sold out, own limit used up), and
             -- whatever an entered code points to
             WHERE el.reason IN ('ok', 'quota_exhausted', 'contact_quota_exhausted') OR el.entered_code IS NOT NULL
        )
        SELECT e.benefit_id, b.code, b.name, e.target_type, e.entered_code, e.reason, b.valid_until,
               -- units this buyer may still take: the least of the total quota left, the contact's
               -- limit left and the per-order limit (NULL: no limit)
               -- (looked up only for a benefit with a limit)
               CASE WHEN b.quota_total IS NULL AND b.quota_per_contact IS NULL THEN b.quota_per_order
                    ELSE (SELECT LEAST(q.total_left, q.contact_left, b.quota_per_order)
                            FROM benefit.units_left(e.benefit_id, available.contact_id) q)
               END AS quota_left,
               (SELECT jsonb_agg(jsonb_build_object(
                           'tariff_id', t.tariff_id, 'product_id', t.product_id, 'performance_id', t.performance_id,
                           'seat_category_id', t.seat_category_id, 'audience_id', t.audience_id,
                           'price_cents', t.price_cents, 'amount_off_cents', t.amount_off_cents,
                           'percent_off', t.percent_off) ORDER BY t.tariff_id)
                  FROM benefit.benefit_tariff t WHERE t.benefit_id = e.benefit_id) AS tariffs
          FROM e
          LEFT JOIN benefit.benefit b ON b.benefit_id = e.benefit_id
         ORDER BY e.reason <> 'ok', b.code, e.entered_code
    LOOP
        available.benefit_id := r.benefit_id;
        available.benefit_code := r.code;
        available.name := r.name;
        available.target_type := r.target_type;
        available.entered_code := r.entered_code;
        available.reason := r.reason;
        available.valid_until := r.valid_until;
        available.quota_left := r.quota_left;
        available.tariffs := r.tariffs;
        IF r.reason = 'unknown_code' THEN
            v_unknown := v_unknown + 1;
        END IF;
        RETURN NEXT;
    END LOOP;
    IF v_throttled THEN
        RETURN QUERY SELECT NULL::bigint, NULL::text, NULL::text, NULL::benefit.target_type, e,
                            'throttled'::benefit.reason, NULL::timestamptz, NULL::integer, NULL::jsonb
                       FROM unnest(v_entered) e;
    ELSIF v_keyed AND v_unknown > 0 THEN
        PERFORM benefit.record_code_failures(available.contact_id, available.client_key, v_unknown);
    END IF;
END
$$;
COMMENT ON FUNCTION benefit.available(bigint, text, timestamptz, text[], text, text) IS
    'The benefits a buyer (NULL contact: anonymous) may use now on a channel (and web point of sale), given the codes entered: each usable one with its target type, validity end, the units this buyer may still take (NULL: no limit) and its tariff rows (products); then those the buyer can no longer use (quota_exhausted: sold out; contact_quota_exhausted: the contact''s own limit used up) and every entered code that unlocks nothing, with their reason; 22023 for an unknown channel or point of sale, P0002 for an unknown contact';

CREATE OR REPLACE FUNCTION benefit.contacts_with_benefits(contact_ids bigint[], channel text, at timestamptz DEFAULT NULL)
RETURNS TABLE (contact_id bigint, benefits integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_channel_id bigint := (benefit.resolve_sale(contacts_with_benefits.channel, NULL, NULL)).channel_id;
    v_at timestamptz := coalesce(contacts_with_benefits.at, now());
BEGIN
    IF cardinality(contacts_with_benefits.contact_ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 contacts at once, not %', cardinality(contacts_with_benefits.contact_ids)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    -- an id of no contact is skipped, not refused: a screen of contacts read from another system
    -- may show one deleted or merged since, and it has no personal benefit (the icon stays off)
    RETURN QUERY
    WITH ids AS (
        SELECT DISTINCT u.id FROM unnest(contacts_with_benefits.contact_ids) u(id) WHERE u.id IS NOT NULL
    ), personal AS (
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels,
               b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL AS limited
          FROM ids
          JOIN benefit.campaign_target ct ON ct.contact_id = ids.id
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
        UNION ALL
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels,
               b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL
          FROM ids
          JOIN benefit.contact_indicator ci ON ci.contact_id = ids.id
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
    ), usable AS (
        SELECT p.id, p.benefit_id, p.limited
          FROM personal p
         WHERE (p.valid_from IS NULL OR p.valid_from <= v_at)
           AND (p.valid_until IS NULL OR p.valid_until > v_at)
           AND (p.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                           WHERE bc.benefit_id = p.benefit_id AND bc.channel_id = v_channel_id))
    )
    SELECT x.id, count(DISTINCT x.benefit_id)::integer
      FROM usable x
     -- not sold out, and the contact's own limit not used up (eligibility's quota reasons), looked
     -- up only for a benefit with a limit
     WHERE CASE WHEN NOT x.limited THEN true
                ELSE (SELECT q.total_left IS DISTINCT FROM 0 AND q.contact_left IS DISTINCT FROM 0
                        FROM benefit.units_left(x.benefit_id, x.id) q) END
     GROUP BY x.id
     ORDER BY x.id;
END
$$;
COMMENT ON FUNCTION benefit.contacts_with_benefits(bigint[], text, timestamptz) IS
    'The box-office gift icon: of a list of contacts (up to 10,000), those with a personal benefit (contacts or indicator target) they can still use now on the channel (live, valid, on the channel, not sold out, their own limit not used up), with how many; one set-based call; ids of no contact are skipped';

--------------------------------------------------------------------------
-- The "Code avantage" box and code holds: references checked, text read once
--------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benefit.enter_code(code text, channel text DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                              contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS TABLE (kind text, reason benefit.reason, benefit_id bigint, benefit_code text, benefit_name text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sale record;
    v_read record;
    c record;
    b record;
BEGIN
    -- what the application passes is checked; what the buyer types never raises
    SELECT * INTO v_sale FROM benefit.resolve_sale(enter_code.channel, enter_code.point_of_sale, enter_code.contact_id, false);
    IF (enter_code.contact_id IS NOT NULL OR enter_code.client_key IS NOT NULL)
       AND benefit.is_throttled(enter_code.contact_id, enter_code.client_key) THEN
        RETURN QUERY SELECT 'unknown'::text, 'throttled'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        RETURN;
    END IF;
    SELECT r.kind, r.benefit_id, r.code INTO v_read FROM benefit.read_codes(ARRAY[enter_code.code]) r;
    IF v_read.kind = 'single_use' THEN
        SELECT sc.*, bb.code AS bcode, bb.name AS bname INTO c
          FROM benefit.single_use_code sc JOIN benefit.benefit bb ON bb.benefit_id = sc.benefit_id
         WHERE sc.code OPERATOR(benefit.=) v_read.code;
        IF NOT FOUND THEN
            PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
            RETURN QUERY SELECT 'single_use'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
        ELSE
            RETURN QUERY SELECT 'single_use'::text,
                                benefit.check_code_use(c.state, c.hold_order, c.hold_until, c.benefit_id, NULL,
                                                       enter_code.channel, enter_code.point_of_sale),
                                c.benefit_id, c.bcode, c.bname;
        END IF;
    ELSIF v_read.kind = 'partner' THEN
        SELECT bb.benefit_id, bb.code, bb.name, bb.status, bb.valid_from, bb.valid_until, bb.all_channels INTO b
          FROM benefit.benefit bb WHERE bb.benefit_id = v_read.benefit_id;
        RETURN QUERY SELECT 'partner'::text,
            CASE WHEN b.status <> 'live' THEN 'benefit_not_live'
                 WHEN b.valid_from > now() THEN 'not_yet_valid'
                 WHEN b.valid_until <= now() THEN 'expired'
                 WHEN v_sale.channel_id IS NOT NULL AND NOT b.all_channels
                      AND NOT EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                       WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_sale.channel_id)
                 THEN 'wrong_channel'
                 ELSE 'ok' END::benefit.reason,
            b.benefit_id, b.code, b.name;
    ELSE
        PERFORM benefit.record_code_failures(enter_code.contact_id, enter_code.client_key, 1);
        RETURN QUERY SELECT 'unknown'::text, 'unknown_code'::benefit.reason, NULL::bigint, NULL::text, NULL::text;
    END IF;
END
$$;
COMMENT ON FUNCTION benefit.enter_code(text, text, text, bigint, text) IS
    'The web "Code avantage" box and the box-office Avantages button: reads the text typed as every entry point does (benefit.read_codes: a partner access code first, then a single-use code), says which benefit it unlocks and whether it can be used now (reason); never raises for what a buyer types (22023 / P0002 for an unknown channel, point of sale or contact the application passes); uses nothing';

-- hold_code (30_throttle_and_read_only.sql) checks its channel, point of sale and contact with
-- benefit.resolve_sale too.
--------------------------------------------------------------------------
-- JSON clients: one parser, one thin wrapper per runtime call
--------------------------------------------------------------------------

CREATE TYPE benefit.call_args AS (
    order_ref   text,
    lines       benefit.basket_line[],
    contact_id  bigint,
    channel     text,
    point_of_sale text,
    at          timestamptz,
    held_until  timestamptz,
    hold_until  timestamptz,
    codes       text[],
    promo_code  text,
    client_key  text,
    code        text
);
COMMENT ON TYPE benefit.call_args IS
    'The arguments of a runtime call read from JSON by benefit.parse_call, named as the typed calls name them (internal)';
REVOKE ALL ON TYPE benefit.call_args FROM PUBLIC;

CREATE FUNCTION benefit.parse_call(args jsonb, fn text)
RETURNS benefit.call_args
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fn text := format('benefit.%s(jsonb)', fn);
    v_keys jsonb;               -- key -> type, from the typed call's arguments
    v_names text[];             -- the keys in argument order, for messages
    v_line_keys jsonb;          -- key -> type, from benefit.basket_line
    v_line_names text[];
    p record;
    v_ts text;
BEGIN
    IF args IS NULL THEN
        RAISE EXCEPTION '% needs a JSON object, not NULL', v_fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF jsonb_typeof(args) <> 'object' THEN
        RAISE EXCEPTION 'the argument of % must be a JSON object, not %', v_fn, left(args::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the keys are the names of the typed call's input arguments, with their types
    SELECT jsonb_object_agg(a.argname, format_type(a.argtype, NULL)), array_agg(a.argname ORDER BY a.n)
      INTO v_keys, v_names
      FROM pg_proc pr,
           unnest(pr.proargnames, coalesce(pr.proallargtypes, pr.proargtypes::oid[]), pr.proargmodes)
               WITH ORDINALITY a(argname, argtype, argmode, n)
     WHERE pr.pronamespace = 'benefit'::regnamespace AND pr.proname = parse_call.fn
       AND NOT (pr.pronargs = 1 AND pr.proargtypes[0] = 'jsonb'::regtype)
       AND (a.argmode IS NULL OR a.argmode IN ('i', 'b'));
    IF v_keys IS NULL THEN
        RAISE EXCEPTION 'no typed form of %', v_fn USING ERRCODE = 'internal_error';
    END IF;
    IF jsonb_typeof(args -> 'lines') = 'array' THEN
        SELECT jsonb_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)), array_agg(a.attname::text ORDER BY a.attnum)
          INTO v_line_keys, v_line_names
          FROM pg_attribute a
         WHERE a.attrelid = 'benefit.basket_line'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    END IF;

    -- the first key, at the top or in a basket line, that is unknown or has the wrong JSON type
    SELECT i.line, i.key, i.value, x.problem INTO p
      FROM (SELECT 0::bigint AS line, e.key, e.value, v_keys ->> e.key AS type
              FROM jsonb_each(args) e
            UNION ALL
            SELECT l.n, le.key, coalesce(le.value, l.line),
                   CASE WHEN jsonb_typeof(l.line) = 'object' THEN v_line_keys ->> le.key ELSE 'basket line' END
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(args -> 'lines') = 'array' THEN args -> 'lines' END)
                       WITH ORDINALITY l(line, n)
              LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(l.line) = 'object' THEN l.line END) le ON true
             WHERE jsonb_typeof(l.line) <> 'object' OR le.key IS NOT NULL) i
     CROSS JOIN LATERAL (SELECT CASE
                WHEN i.type IS NULL THEN 'unknown'
                WHEN i.type = 'basket line' THEN 'a JSON object'
                WHEN jsonb_typeof(i.value) = 'null' THEN NULL
                WHEN i.type IN ('text', 'benefit.code', 'timestamp with time zone') THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'string' THEN 'a JSON string' END
                WHEN i.type IN ('bigint', 'integer') THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'number' OR i.value::text !~ '^-?[0-9]{1,19}$' THEN 'an integer'
                         WHEN i.value::numeric NOT BETWEEN CASE i.type WHEN 'integer' THEN -2147483648 ELSE -9223372036854775808 END
                                                       AND CASE i.type WHEN 'integer' THEN 2147483647 ELSE 9223372036854775807 END
                         THEN 'an integer'
                    END
                WHEN i.type = 'text[]' THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'array'
                              OR EXISTS (SELECT 1 FROM jsonb_array_elements(i.value) v WHERE jsonb_typeof(v) <> 'string')
                         THEN 'an array of strings' END
                WHEN i.type = 'benefit.basket_line[]' THEN
                    CASE WHEN jsonb_typeof(i.value) <> 'array' THEN 'an array of line objects' END
                ELSE 'of type ' || i.type
           END AS problem) x
     WHERE x.problem IS NOT NULL
     ORDER BY i.line, i.key
     LIMIT 1;
    IF FOUND AND p.problem = 'unknown' THEN
        IF p.line = 0 THEN
            RAISE EXCEPTION 'unknown key "%"', p.key USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s takes the keys %s.', v_fn, array_to_string(v_names, ', '));
        END IF;
        RAISE EXCEPTION 'unknown key "%" in line %', p.key, p.line USING ERRCODE = 'invalid_parameter_value',
              DETAIL = format('A basket line takes the keys %s.', array_to_string(v_line_names, ', '));
    ELSIF FOUND AND p.key IS NULL THEN
        RAISE EXCEPTION 'line % must be %, not %', p.line, p.problem, left(p.value::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    ELSIF FOUND AND p.line = 0 THEN
        RAISE EXCEPTION 'key "%" must be %, not %', p.key, p.problem, left(p.value::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'key "%" of line % must be %, not %', p.key, p.line, p.problem, left(p.value::text, 60)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- timestamps: a string that is no timestamp names its key too
    FOR p IN SELECT e.key, e.value #>> '{}' AS v FROM jsonb_each(args) e
              WHERE v_keys ->> e.key = 'timestamp with time zone' AND jsonb_typeof(e.value) = 'string' LOOP
        BEGIN
            PERFORM p.v::timestamptz;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION 'key "%" must be a timestamp, not "%"', p.key, left(p.v, 60)
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Write it as ISO 8601 with its offset: "2026-12-01T20:00:00+01:00".';
        END;
    END LOOP;
    RETURN jsonb_populate_record(NULL::benefit.call_args, args);
END
$$;
COMMENT ON FUNCTION benefit.parse_call(jsonb, text) IS
    'The one JSON reader of the jsonb forms of the runtime calls: the keys of benefit.<fn>(jsonb) are the input argument names of the typed benefit.<fn>, with their types (a JSON string for text, a code or a timestamp, an integer for an id, an array of strings for codes, an array of objects with the keys of benefit.basket_line for lines; null for NULL); an unknown key, also inside a basket line, or a wrong JSON type is an error (22023) naming the key';

CREATE OR REPLACE FUNCTION benefit.price_basket(basket jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(price_basket.basket, 'price_basket');
BEGIN
    RETURN to_jsonb(benefit.price_basket(a.lines, a.contact_id, a.channel, a.point_of_sale, a.at, a.codes,
                                         a.promo_code, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.price_basket(jsonb) IS
    'price_basket for JSON clients: {"lines": [{"product_id", "performance_id", "seat_category_id", "audience_id", "quantity", "base_price_cents"}], "contact_id", "channel", "point_of_sale", "at", "codes": [...], "promo_code", "client_key"} in (the argument names of the typed call; an unknown key or a wrong JSON type is 22023), the priced basket as a JSON object out';

CREATE FUNCTION benefit.hold(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(hold.args, 'hold');
BEGIN
    RETURN to_jsonb(benefit.hold(a.order_ref, a.lines, a.contact_id, a.channel, a.held_until, a.codes, a.promo_code,
                                 a.point_of_sale, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.hold(jsonb) IS
    'hold for JSON clients: {"order_ref", "lines": [...], "contact_id", "channel", "held_until", "codes", "promo_code", "point_of_sale", "client_key"} in (the argument names of the typed call; an unknown key or a wrong JSON type is 22023), the priced basket with its reason, order_ref and held_until as a JSON object out';

CREATE FUNCTION benefit.confirm(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(confirm.args, 'confirm');
BEGIN
    RETURN jsonb_build_object('reason', benefit.confirm(a.order_ref));
END
$$;
COMMENT ON FUNCTION benefit.confirm(jsonb) IS
    'confirm for JSON clients: {"order_ref"} in, {"reason"} out (benefit.confirm(''ref'') with a plain string literal is the typed call)';

CREATE FUNCTION benefit.release(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(release.args, 'release');
BEGIN
    RETURN jsonb_build_object('reason', benefit.release(a.order_ref));
END
$$;
COMMENT ON FUNCTION benefit.release(jsonb) IS
    'release for JSON clients: {"order_ref"} in, {"reason"} out (benefit.release(''ref'') with a plain string literal is the typed call)';

CREATE FUNCTION benefit.redeem_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(redeem_code.args, 'redeem_code');
BEGIN
    RETURN to_jsonb(benefit.redeem_code(a.code::benefit.code, a.contact_id, a.order_ref, a.channel, a.point_of_sale,
                                        a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.redeem_code(jsonb) IS
    'redeem_code for JSON clients: {"code", "contact_id", "order_ref", "channel", "point_of_sale", "client_key"} in (22P02 for a malformed code, as the typed call), {"reason", "code", "benefit_id", "benefit_code", "used_at"} out';

CREATE FUNCTION benefit.enter_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(enter_code.args, 'enter_code');
BEGIN
    RETURN (SELECT to_jsonb(e) FROM benefit.enter_code(a.code, a.channel, a.point_of_sale, a.contact_id, a.client_key) e);
END
$$;
COMMENT ON FUNCTION benefit.enter_code(jsonb) IS
    'enter_code for JSON clients: {"code", "channel", "point_of_sale", "contact_id", "client_key"} in, {"kind", "reason", "benefit_id", "benefit_code", "benefit_name"} out (benefit.enter_code(''text'') with a plain string literal is the typed call)';

CREATE FUNCTION benefit.available(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(available.args, 'available');
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'ordinality' ORDER BY x.ordinality), '[]'::jsonb)
              FROM benefit.available(a.contact_id, a.channel, a.at, a.codes, a.point_of_sale, a.client_key)
                   WITH ORDINALITY x);
END
$$;
COMMENT ON FUNCTION benefit.available(jsonb) IS
    'available for JSON clients: {"contact_id", "channel", "at", "codes", "point_of_sale", "client_key"} in, a JSON array of objects out, one per row of the typed call in its order';

CREATE FUNCTION benefit.hold_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(hold_code.args, 'hold_code');
BEGIN
    RETURN jsonb_build_object('reason', benefit.hold_code(a.code::benefit.code, a.order_ref, a.hold_until, a.channel,
                                                          a.point_of_sale, a.contact_id, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.hold_code(jsonb) IS
    'hold_code for JSON clients: {"code", "order_ref", "hold_until", "channel", "point_of_sale", "contact_id", "client_key"} in, {"reason"} out';

CREATE FUNCTION benefit.release_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit.call_args := benefit.parse_call(release_code.args, 'release_code');
BEGIN
    IF a.code IS NULL OR a.order_ref IS NULL THEN
        RAISE EXCEPTION 'code and order_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN jsonb_build_object('reason', benefit.release_code(a.code::benefit.code, a.order_ref, a.contact_id, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.release_code(jsonb) IS
    'release_code for JSON clients: {"code", "order_ref", "contact_id", "client_key"} in (code and order_ref required: 22004), {"reason"} out';

--------------------------------------------------------------------------
-- Privileges: the helpers are internal; the JSON forms go where the typed ones go
--------------------------------------------------------------------------

REVOKE ALL ON FUNCTION benefit.resolve_sale(text, text, bigint, boolean), benefit.read_codes(text[]),
    benefit.units_left(bigint, bigint), benefit.parse_call(jsonb, text),
    benefit.hold(jsonb), benefit.confirm(jsonb), benefit.release(jsonb), benefit.redeem_code(jsonb),
    benefit.enter_code(jsonb), benefit.available(jsonb), benefit.hold_code(jsonb), benefit.release_code(jsonb)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    benefit.hold(jsonb), benefit.confirm(jsonb), benefit.release(jsonb), benefit.redeem_code(jsonb),
    benefit.enter_code(jsonb), benefit.available(jsonb), benefit.hold_code(jsonb), benefit.release_code(jsonb)
    TO benefit_sales, benefit_admin;
