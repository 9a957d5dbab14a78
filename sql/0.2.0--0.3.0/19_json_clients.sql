-- 0.3.0, JSON clients (sql/src/19_json_clients.sql): the comment of the type
-- that moved, and every function that names it or the parser.

COMMENT ON TYPE benefit_internal.call_args IS
    'The arguments of a runtime call read from JSON by benefit_internal.parse_call, named as the typed calls name them (internal)';

CREATE OR REPLACE FUNCTION benefit_internal.parse_call(args jsonb, fn text)
RETURNS benefit_internal.call_args
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
    RETURN jsonb_populate_record(NULL::benefit_internal.call_args, args);
END
$$;

CREATE OR REPLACE FUNCTION benefit.price_basket(basket jsonb)
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

CREATE OR REPLACE FUNCTION benefit.hold(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.confirm(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.release(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.redeem_code(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.enter_code(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.available(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.hold_code(args jsonb)
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

CREATE OR REPLACE FUNCTION benefit.release_code(args jsonb)
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
