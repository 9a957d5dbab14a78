-- tap_schema: the catalog's shape.  The configuration model exists with the
-- right types and constraints, the public API is in schema benefit and the
-- helpers and trigger functions in benefit_internal, every object (every view
-- column too) is commented, money is never floating point, every SQL
-- function pins its search_path, and pg_dump keeps every table and sequence
-- holding user data.
-- No fixture: it reads the catalog only.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(68);

SELECT has_schema('benefit');
SELECT tables_are('benefit', ARRAY[
    'season', 'sales_channel', 'point_of_sale', 'product_family', 'product', 'performance',
    'seat_category', 'audience', 'base_price', 'contact', 'indicator', 'indicator_level',
    'contact_indicator', 'campaign', 'campaign_target', 'benefit', 'benefit_channel',
    'benefit_tariff', 'benefit_status_history', 'promo_code', 'promo_code_channel', 'code_batch',
    'single_use_code', 'mail_outbox', 'code_history', 'ticket', 'counter', 'order_hold', 'order_hold_counter',
    'order_line', 'order_code', 'order_refund', 'order_refund_line', 'order_refund_counter', 'order_open']);
SELECT views_are('benefit', ARRAY['benefit_overview', 'code_tracking', 'code_dashboard', 'benefit_usage', 'promo_usage',
    'catalogue_product', 'catalogue_performance', 'catalogue_seat_category', 'catalogue_audience', 'catalogue_price',
    'catalogue_channel']);
SELECT enum_has_labels('benefit', 'target_type', ARRAY['public', 'contacts', 'indicator', 'partner', 'single_use']);
SELECT enum_has_labels('benefit', 'benefit_status', ARRAY['draft', 'validated', 'live', 'suspended', 'closed']);
SELECT enum_has_labels('benefit', 'contact_kind', ARRAY['person', 'organisation']);
SELECT enum_has_labels('benefit', 'channel_kind', ARRAY['box_office', 'web', 'call_centre', 'reseller', 'other']);
SELECT functions_are('benefit', ARRAY[
    'list_problems', 'count_problems', 'generate_codes', 'batch_codes', 'redeem_code', 'invalidate_code', 'hold_code', 'release_code', 'expire_code_holds', 'enter_code', 'record_ticket', 'ticket_scanned',
    'purge_code_attempts', 'list_promo_problems', 'count_promo_problems', 'set_status', 'code_in', 'code_out', 'code_recv', 'code_send', 'is_valid_code',
    'code_eq', 'code_ne', 'code_lt', 'code_le', 'code_gt', 'code_ge', 'code_cmp', 'code_sortsupport', 'code_hash',
    'code_hash_extended', 'validate', 'go_live', 'suspend', 'close', 'library_version',
    'available', 'contacts_with_benefits', 'money_unit_price',
    'money_basket_discount', 'money_allocate', 'price_basket',
    'hold', 'list_code_attempts', 'forget_code_attempts', 'season_day_start',
    'confirm', 'release', 'expire_holds', 'refund', 'purge_orders']);

-- the helpers and trigger functions behind them: a schema of their own
SELECT has_schema('benefit_internal');
SELECT functions_are('benefit_internal', ARRAY[
    'check_code_use', 'check_benefit_update', 'record_status_change', 'check_benefit_child',
    'check_live_complete', 'check_still_complete', 'check_live_references', 'list_validity_problems',
    'check_order_ref', 'resolve_sale', 'read_codes', 'units_left', 'parse_call', 'eligibility', 'price',
    'serialize_limit_edits',
    'config_changed',
    'spread_slots', 'maintain_slots', 'take_slots', 'take_limited', 'take_promo', 'spread_promo_budget', 'use_reason', 'settle_order', 'take_code_units', 'give_back_code', 'code_order', 'expire_hold_of', 'order_codes_reason', 'move_deadline',
    'is_throttled', 'record_code_failures', 'require_writable', 'track_open_order']);
SELECT types_are('benefit_internal', ARRAY['call_args']);
SELECT is_empty($$
    SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'benefit_internal'::regnamespace AND c.relkind <> 'c'$$,
    'benefit_internal holds no table, view, index or sequence: every row is in schema benefit');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'benefit'::regnamespace AND p.prorettype = 'trigger'::regtype$$,
    'no trigger function in schema benefit');
SELECT is_empty($$
    SELECT d.objid::regprocedure::text FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'benefit')
       AND p.pronamespace NOT IN ('benefit'::regnamespace, 'benefit_internal'::regnamespace)$$,
    'every function of the extension is in schema benefit or benefit_internal');
SELECT ok(EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_namespace'::regclass AND d.objid = 'benefit_internal'::regnamespace
                     AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
          'benefit_internal belongs to the extension (DROP EXTENSION drops it)');

-- every table has a primary key
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind = 'r'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')$$,
    'every table has a primary key');

-- constraints are named explicitly: <table>_..._(pkey|key|fkey|check), and fit in 63 bytes
SELECT is_empty($$
    SELECT k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND k.contype <> 't'
       AND (k.conname NOT LIKE c.relname || '\_%'
            OR k.conname !~ '_(pkey|key|fkey|check)$')$$,
    'constraints are named <table>_<cols>_<pkey|key|fkey|check>');

-- money: integer minor units, never floating point or the money type
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('real'::regtype, 'double precision'::regtype, 'money'::regtype)$$,
    'no floating-point or money column');
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind = 'r' AND a.attname LIKE '%\_cents'
       AND a.atttypid <> 'bigint'::regtype$$,
    'every *_cents column is bigint');
SELECT col_type_is('benefit', 'benefit_tariff', 'percent_off', 'numeric', 'tariff percent is exact numeric');
SELECT col_type_is('benefit', 'promo_code', 'percent_off', 'numeric', 'promo percent is exact numeric');

-- the important constraints exist
SELECT col_is_pk('benefit', 'benefit', 'benefit_id', 'benefit_id is the key of benefit');
SELECT col_is_unique('benefit', 'benefit', 'code', 'benefit codes are unique');
SELECT has_index('benefit', 'benefit', 'benefit_lower_access_code_key', 'access codes unique regardless of case');
SELECT index_is_unique('benefit', 'benefit', 'benefit_lower_access_code_key');
SELECT has_index('benefit', 'promo_code', 'promo_code_lower_code_key', 'promo codes unique regardless of case');
SELECT index_is_unique('benefit', 'promo_code', 'promo_code_lower_code_key');
SELECT col_is_unique('benefit', 'benefit_tariff',
    ARRAY['benefit_id', 'product_id', 'performance_id', 'seat_category_id', 'audience_id'],
    'one tariff row per benefit x product x performance x seat category x audience');
SELECT fk_ok('benefit', 'benefit', 'season_id', 'benefit', 'season', 'season_id');
SELECT fk_ok('benefit', 'benefit', 'campaign_id', 'benefit', 'campaign', 'campaign_id');
SELECT fk_ok('benefit', 'benefit', 'indicator_level_id', 'benefit', 'indicator_level', 'level_id');
SELECT fk_ok('benefit', 'benefit', 'point_of_sale_id', 'benefit', 'point_of_sale', 'point_of_sale_id');
SELECT fk_ok('benefit', 'point_of_sale', ARRAY['channel_id', 'channel_kind'], 'benefit', 'sales_channel', ARRAY['channel_id', 'kind']);
SELECT fk_ok('benefit', 'benefit_tariff', ARRAY['performance_id', 'product_id'], 'benefit', 'performance', ARRAY['performance_id', 'product_id']);
SELECT fk_ok('benefit', 'contact_indicator', ARRAY['level_id', 'indicator_id'], 'benefit', 'indicator_level', ARRAY['level_id', 'indicator_id']);
SELECT ok(EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'benefit_valid_until_check' AND conrelid = 'benefit.benefit'::regclass), 'validity window is checked');
SELECT col_has_check('benefit', 'benefit', 'quota_total', 'quota_total is checked');
SELECT col_has_check('benefit', 'benefit_tariff', 'percent_off', 'percent_off is checked');
SELECT col_has_check('benefit', 'promo_code', 'min_basket_cents', 'minimum basket is checked');
SELECT col_has_check('benefit', 'contact', 'email', 'e-mail is checked');
SELECT col_not_null('benefit', 'benefit', 'season_id', 'every benefit belongs to a season');
SELECT col_not_null('benefit', 'benefit', 'target_type', 'every benefit has a target type');
SELECT col_default_is('benefit', 'benefit', 'status', 'draft', 'benefits start as draft');
SELECT col_type_is('benefit', 'benefit', 'valid_from', 'timestamp with time zone', 'valid_from is timestamptz');
SELECT col_type_is('benefit', 'benefit', 'valid_until', 'timestamp with time zone', 'valid_until is timestamptz');
SELECT col_is_null('benefit', 'benefit', 'valid_from', 'validity start may be open');
SELECT col_is_null('benefit', 'benefit', 'valid_until', 'validity end may be open');
SELECT has_trigger('benefit', 'benefit', 'benefit_check_trg', 'trigger benefit_check_trg exists');
SELECT has_trigger('benefit', 'benefit', 'benefit_history_trg', 'trigger benefit_history_trg exists');
SELECT has_trigger('benefit', 'benefit_tariff', 'benefit_tariff_check_trg', 'trigger benefit_tariff_check_trg exists');
SELECT has_trigger('benefit', 'benefit_channel', 'benefit_channel_check_trg', 'trigger benefit_channel_check_trg exists');

-- functions: volatility and search_path pinned on every SQL/PL function
SELECT volatility_is('benefit', 'list_problems', ARRAY['bigint'], 'stable');
SELECT volatility_is('benefit', 'go_live', ARRAY['bigint'], 'volatile');
SELECT is_strict('benefit', 'go_live', ARRAY['bigint'], 'go_live is strict');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace IN ('benefit'::regnamespace, 'benefit_internal'::regnamespace)
       AND p.prolang NOT IN (SELECT oid FROM pg_language WHERE lanname IN ('c', 'internal'))
       AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'every SQL and PL/pgSQL function pins search_path = pg_catalog, pg_temp');
SELECT is(benefit.library_version(),
          (SELECT extversion FROM pg_extension WHERE extname = 'benefit'),
          'the shared library matches the installed extension version');

-- every object carries a COMMENT
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind IN ('r', 'v', 'i')
       AND obj_description(c.oid, 'pg_class') IS NULL
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)$$,
    'every table, view and index (other than those of key constraints) has a comment');
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
       AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL$$,
    'every column has a comment');
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind IN ('v', 'm') AND a.attnum > 0
       AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL
     ORDER BY 1$$,
    'every view column in schema benefit has a comment');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace IN ('benefit'::regnamespace, 'benefit_internal'::regnamespace)
       AND obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every function has a comment, in both schemas');
SELECT is_empty($$
    SELECT t.typname FROM pg_type t
     WHERE t.typnamespace IN ('benefit'::regnamespace, 'benefit_internal'::regnamespace)
       AND (t.typtype IN ('e', 'b', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
       AND t.typelem = 0 AND obj_description(t.oid, 'pg_type') IS NULL$$,
    'every type has a comment (composite types too), in both schemas');
SELECT is_empty($$
    SELECT k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND k.contype = 'c'
       AND obj_description(k.oid, 'pg_constraint') IS NULL$$,
    'every check constraint has a comment');
SELECT is_empty($$
    SELECT g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
     WHERE c.relnamespace = 'benefit'::regnamespace AND NOT g.tgisinternal
       AND obj_description(g.oid, 'pg_trigger') IS NULL$$,
    'every trigger has a comment');
SELECT isnt(obj_description('benefit'::regnamespace, 'pg_namespace'), NULL, 'the schema has a comment');
SELECT isnt(obj_description('benefit_internal'::regnamespace, 'pg_namespace'), NULL, 'schema benefit_internal has a comment');

-- pg_dump keeps the rows: every table and identity sequence is a configuration table
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind IN ('r', 'S')
       AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'benefit')::oid[])$$,
    'every table and sequence is marked with pg_extension_config_dump');
SELECT is((SELECT count(*)::int FROM pg_class c
            WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind = 'S'), 20,
          'twenty identity sequences, one per table with a surrogate key');
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'benefit.benefit'::regclass), 'r', 'benefit is a plain table');

SELECT * FROM finish();
ROLLBACK;
