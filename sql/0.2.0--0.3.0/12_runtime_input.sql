-- 0.3.0, the input of a runtime call (sql/src/12_runtime_input.sql): what names
-- a moved helper.

CREATE OR REPLACE FUNCTION benefit_internal.channel_id(channel text)
RETURNS bigint
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.channel_id FROM benefit_internal.resolve_sale(channel_id.channel, NULL, NULL) r
$$;

COMMENT ON FUNCTION benefit_internal.channel_id(text) IS
    'The id of a sales channel given by code; 22004 for NULL, 22023 for an unknown code (benefit_internal.resolve_sale)';
