-- 0.3.0, the configuration cache (src/config.c): the statement triggers of the configuration
-- tables (sql/src/04_catalogue.sql, 07_benefits.sql, 09_promo_codes.sql), on tables 0.2.0 has (the
-- trigger function is created by the restated routines above).

CREATE TRIGGER sales_channel_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.sales_channel
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER sales_channel_config_trg ON benefit.sales_channel IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER point_of_sale_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.point_of_sale
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER point_of_sale_config_trg ON benefit.point_of_sale IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER benefit_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.benefit
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER benefit_config_trg ON benefit.benefit IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER benefit_channel_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.benefit_channel
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER benefit_channel_config_trg ON benefit.benefit_channel IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER benefit_tariff_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.benefit_tariff
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER benefit_tariff_config_trg ON benefit.benefit_tariff IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER promo_code_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.promo_code
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER promo_code_config_trg ON benefit.promo_code IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER promo_code_channel_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.promo_code_channel
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER promo_code_channel_config_trg ON benefit.promo_code_channel IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER product_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.product
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER product_config_trg ON benefit.product IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER performance_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.performance
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER performance_config_trg ON benefit.performance IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER seat_category_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.seat_category
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER seat_category_config_trg ON benefit.seat_category IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER audience_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.audience
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER audience_config_trg ON benefit.audience IS 'The runtime''s configuration cache is stale after a change';

CREATE TRIGGER base_price_config_trg
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON benefit.base_price
    FOR EACH STATEMENT EXECUTE FUNCTION benefit_internal.config_changed();
COMMENT ON TRIGGER base_price_config_trg ON benefit.base_price IS 'The runtime''s configuration cache is stale after a change';
