/*
 * JSON clients: a jsonb form of each runtime call a web shop makes, thin
 * wrappers around the typed calls.  One parser (benefit_internal.parse_call)
 * reads every key with the name and type of the typed call's argument and
 * refuses an unknown key or a wrong JSON type (22023, naming the key).
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit_internal.call_args AS (
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
    code        text,
    refund_ref  text
);
COMMENT ON TYPE benefit_internal.call_args IS
    'The arguments of a runtime call read from JSON by benefit_internal.parse_call, named as the typed calls name them (internal)';
REVOKE ALL ON TYPE benefit_internal.call_args FROM PUBLIC;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.parse_call(args jsonb, fn text)
RETURNS benefit_internal.call_args
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fn text := format('benefit.%s(jsonb)', fn);
    v_keys jsonb;               -- key -> type, from the typed call's arguments
    v_names text[];             -- the keys in argument order, for messages
    v_line_keys jsonb;          -- key -> type, from the line type of the call (basket or refund line)
    v_line_names text[];
    v_line_kind text;           -- 'basket line' or 'refund line', for messages
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
    IF jsonb_typeof(args -> 'lines') = 'array' AND v_keys ? 'lines' THEN
        -- the line type is the element type of the typed call's lines argument
        SELECT jsonb_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)), array_agg(a.attname::text ORDER BY a.attnum),
               replace(min(t.typname), '_', ' ')
          INTO v_line_keys, v_line_names, v_line_kind
          FROM pg_type t
          JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE t.oid = (SELECT e.typelem FROM pg_type e WHERE e.oid = (v_keys ->> 'lines')::regtype);
    END IF;

    -- the first key, at the top or in a basket line, that is unknown or has the wrong JSON type
    SELECT i.line, i.key, i.value, x.problem INTO p
      FROM (SELECT 0::bigint AS line, e.key, e.value, v_keys ->> e.key AS type
              FROM jsonb_each(args) e
            UNION ALL
            SELECT l.n, le.key, coalesce(le.value, l.line),
                   CASE WHEN jsonb_typeof(l.line) = 'object' THEN v_line_keys ->> le.key ELSE 'line object' END
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(args -> 'lines') = 'array' THEN args -> 'lines' END)
                       WITH ORDINALITY l(line, n)
              LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(l.line) = 'object' THEN l.line END) le ON true
             WHERE jsonb_typeof(l.line) <> 'object' OR le.key IS NOT NULL) i
     CROSS JOIN LATERAL (SELECT CASE
                WHEN i.type IS NULL THEN 'unknown'
                WHEN i.type = 'line object' THEN 'a JSON object'
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
                WHEN i.type IN ('benefit.basket_line[]', 'benefit.refund_line[]') THEN
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
              DETAIL = format('A %s takes the keys %s.', v_line_kind, array_to_string(v_line_names, ', '));
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
    RETURN jsonb_populate_record(NULL::benefit_internal.call_args, args);
END
$$;
COMMENT ON FUNCTION benefit_internal.parse_call(jsonb, text) IS
    'The one JSON reader of the jsonb forms of the runtime calls: the keys of benefit.<fn>(jsonb) are the input argument names of the typed benefit.<fn>, with their types (a JSON string for text, a code or a timestamp, an integer for an id, an array of strings for codes, an array of objects with the keys of the call''s line type, benefit.basket_line or benefit.refund_line, for lines; null for NULL); an unknown key, also inside a basket line, or a wrong JSON type is an error (22023) naming the key';
REVOKE ALL ON FUNCTION benefit_internal.parse_call(jsonb, text) FROM PUBLIC;

CREATE FUNCTION benefit.price_basket(basket jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(price_basket.basket, 'price_basket');
BEGIN
    RETURN to_jsonb(benefit.price_basket(a.lines, a.contact_id, a.channel, a.point_of_sale, a.at, a.codes,
                                         a.promo_code, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.price_basket(jsonb) IS
    'price_basket for JSON clients: {"lines": [{"product_id", "performance_id", "seat_category_id", "audience_id", "quantity", "base_price_cents"}], "contact_id", "channel", "point_of_sale", "at", "codes": [...], "promo_code", "client_key"} in (the argument names of the typed call; an unknown key or a wrong JSON type is 22023), the priced basket as a JSON object out';
REVOKE ALL ON FUNCTION benefit.price_basket(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.price_basket(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.hold(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(hold.args, 'hold');
BEGIN
    RETURN to_jsonb(benefit.hold(a.order_ref, a.lines, a.contact_id, a.channel, a.held_until, a.codes, a.promo_code,
                                 a.point_of_sale, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.hold(jsonb) IS
    'hold for JSON clients: {"order_ref", "lines": [...], "contact_id", "channel", "held_until", "codes", "promo_code", "point_of_sale", "client_key"} in (the argument names of the typed call; an unknown key or a wrong JSON type is 22023), the priced basket with its reason, order_ref and held_until as a JSON object out';
REVOKE ALL ON FUNCTION benefit.hold(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.confirm(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(confirm.args, 'confirm');
BEGIN
    RETURN jsonb_build_object('reason', benefit.confirm(a.order_ref));
END
$$;
COMMENT ON FUNCTION benefit.confirm(jsonb) IS
    'confirm for JSON clients: {"order_ref"} in, {"reason"} out (benefit.confirm(''ref'') with a plain string literal is the typed call)';
REVOKE ALL ON FUNCTION benefit.confirm(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.confirm(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.release(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(release.args, 'release');
BEGIN
    RETURN jsonb_build_object('reason', benefit.release(a.order_ref));
END
$$;
COMMENT ON FUNCTION benefit.release(jsonb) IS
    'release for JSON clients: {"order_ref"} in, {"reason"} out (benefit.release(''ref'') with a plain string literal is the typed call)';
REVOKE ALL ON FUNCTION benefit.release(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.release(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.redeem_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(redeem_code.args, 'redeem_code');
BEGIN
    RETURN to_jsonb(benefit.redeem_code(a.code::benefit.code, a.contact_id, a.order_ref, a.channel, a.point_of_sale,
                                        a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.redeem_code(jsonb) IS
    'redeem_code for JSON clients: {"code", "contact_id", "order_ref", "channel", "point_of_sale", "client_key"} in (22P02 for a malformed code, as the typed call), {"reason", "code", "benefit_id", "benefit_code", "used_at"} out';
REVOKE ALL ON FUNCTION benefit.redeem_code(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.redeem_code(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.enter_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(enter_code.args, 'enter_code');
BEGIN
    RETURN (SELECT to_jsonb(e) FROM benefit.enter_code(a.code, a.channel, a.point_of_sale, a.contact_id, a.client_key) e);
END
$$;
COMMENT ON FUNCTION benefit.enter_code(jsonb) IS
    'enter_code for JSON clients: {"code", "channel", "point_of_sale", "contact_id", "client_key"} in, {"kind", "reason", "benefit_id", "benefit_code", "benefit_name"} out (benefit.enter_code(''text'') with a plain string literal is the typed call)';
REVOKE ALL ON FUNCTION benefit.enter_code(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.enter_code(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.available(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(available.args, 'available');
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'ordinality' ORDER BY x.ordinality), '[]'::jsonb)
              FROM benefit.available(a.contact_id, a.channel, a.at, a.codes, a.point_of_sale, a.client_key)
                   WITH ORDINALITY x);
END
$$;
COMMENT ON FUNCTION benefit.available(jsonb) IS
    'available for JSON clients: {"contact_id", "channel", "at", "codes", "point_of_sale", "client_key"} in, a JSON array of objects out, one per row of the typed call in its order';
REVOKE ALL ON FUNCTION benefit.available(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.available(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.hold_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(hold_code.args, 'hold_code');
BEGIN
    RETURN jsonb_build_object('reason', benefit.hold_code(a.code::benefit.code, a.order_ref, a.hold_until, a.channel,
                                                          a.point_of_sale, a.contact_id, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.hold_code(jsonb) IS
    'hold_code for JSON clients: {"code", "order_ref", "hold_until", "channel", "point_of_sale", "contact_id", "client_key"} in, {"reason"} out';
REVOKE ALL ON FUNCTION benefit.hold_code(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.hold_code(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.release_code(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(release_code.args, 'release_code');
BEGIN
    IF a.code IS NULL OR a.order_ref IS NULL THEN
        RAISE EXCEPTION 'code and order_ref must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN jsonb_build_object('reason', benefit.release_code(a.code::benefit.code, a.order_ref, a.contact_id, a.client_key));
END
$$;
COMMENT ON FUNCTION benefit.release_code(jsonb) IS
    'release_code for JSON clients: {"code", "order_ref", "contact_id", "client_key"} in (code and order_ref required: 22004), {"reason"} out';
REVOKE ALL ON FUNCTION benefit.release_code(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.release_code(jsonb) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.refund(args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a benefit_internal.call_args := benefit_internal.parse_call(refund.args, 'refund');
BEGIN
    -- the lines are refund lines: read here with their own type (parse_call checked their keys)
    RETURN jsonb_build_object('reason', benefit.refund(
        a.order_ref, a.refund_ref,
        CASE WHEN jsonb_typeof(refund.args -> 'lines') = 'array'
             THEN ARRAY(SELECT r FROM jsonb_populate_recordset(NULL::benefit.refund_line, refund.args -> 'lines') r)
        END));
END
$$;
COMMENT ON FUNCTION benefit.refund(jsonb) IS
    'refund for JSON clients: {"order_ref", "refund_ref", "lines": [{"line_no", "quantity"}, ...]} in (no lines or null: the whole order; an unknown key, also in a line, or a wrong JSON type is 22023), {"reason"} out';
REVOKE ALL ON FUNCTION benefit.refund(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.refund(jsonb) TO benefit_sales, benefit_admin;
