/*
 * The input of a runtime call, checked and read in one place.
 *
 * A runtime call that writes refuses a read-only transaction or a hot
 * standby with one error (require_writable), before it does anything.
 *
 * Bad references are refused, not ignored: every runtime call checks its
 * sales channel, point of sale and contact with one rule (src/sale.c; the
 * SQL callers through benefit_internal.resolve_sale, price and redeem_code
 * call it in C): 22023 for an unknown channel or point of sale, or a point of
 * sale of another channel; P0002 for an unknown contact id.
 *
 * What a typed text is ("Code avantage"), read once for every entry point
 * (benefit_internal.read_codes): a partner access code (any case, trimmed)
 * first, then a well-formed single-use code, otherwise unknown.
 */

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.require_writable(call text)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_require_writable_sql'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit_internal.require_writable(text) IS
    '(C) Raises 25006 naming the call when the transaction is read-only or the server a hot standby; the runtime functions that write call it first, so that nothing is half done';
REVOKE ALL ON FUNCTION benefit_internal.require_writable(text) FROM PUBLIC;

CREATE FUNCTION benefit_internal.resolve_sale(channel text, point_of_sale text, contact_id bigint,
                                              channel_required boolean DEFAULT true,
                                              OUT channel_id bigint, OUT channel_kind benefit.channel_kind,
                                              OUT point_of_sale_id bigint)
AS 'MODULE_PATHNAME', 'benefit_resolve_sale'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION benefit_internal.resolve_sale(text, text, bigint, boolean) IS
    '(C, src/sale.c; its statement runs with pg_catalog as the only schema searched, pinned in C) The references of a runtime call checked in one place, also by price and redeem_code: the sales channel by code (22004 when NULL and required, 22023 when unknown), the web point of sale by code (22023 when unknown or on another channel than the one given), the contact id (P0002 when unknown; NULL is an anonymous buyer); returns the channel id and kind and the point of sale id';
REVOKE ALL ON FUNCTION benefit_internal.resolve_sale(text, text, bigint, boolean) FROM PUBLIC;

CREATE FUNCTION benefit_internal.check_order_ref(order_ref text)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_check_order_ref_sql'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION benefit_internal.check_order_ref(text) IS
    '(C, src/sale.c) The one rule of an order reference, also applied by redeem_code: 22023 when it is NULL, blank or longer than 200 characters';
REVOKE ALL ON FUNCTION benefit_internal.check_order_ref(text) FROM PUBLIC;

-- Set-based and in PL/pgSQL: one call per statement, its plan kept for the
-- session (a SQL function called from a statement is planned again at every
-- execution of it); strict, so that no call is made when no code was entered.
CREATE FUNCTION benefit_internal.read_codes(texts text[])
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
COMMENT ON FUNCTION benefit_internal.read_codes(text[]) IS
    'How every entry point (enter_code, available, price_basket, hold) reads a typed text, for each text given: equal (any case, trimmed) to a partner access code, it is that partner code (kind partner, its benefit); otherwise a well-formed single-use code (kind single_use, the code, whether issued or not); otherwise unknown (NULL, blank, malformed or over 200 characters)';
REVOKE ALL ON FUNCTION benefit_internal.read_codes(text[]) FROM PUBLIC;
