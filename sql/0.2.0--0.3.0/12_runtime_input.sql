-- 0.3.0, the input of a runtime call (sql/src/12_runtime_input.sql): the
-- unused channel_id dropped, the order-reference rule made one function.

-- channel_id has had no caller since 0.2.0 (resolve_sale checks a channel).
DROP FUNCTION benefit_internal.channel_id(text);

-- The rule of an order reference, once (redeem_code applies it in C).
CREATE FUNCTION benefit_internal.check_order_ref(order_ref text)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_check_order_ref_sql'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION benefit_internal.check_order_ref(text) IS
    '(C, src/sale.c) The one rule of an order reference, also applied by redeem_code: 22023 when it is NULL, blank or longer than 200 characters';
REVOKE ALL ON FUNCTION benefit_internal.check_order_ref(text) FROM PUBLIC;
