-- The schema of the helpers and trigger functions (sql/src/01_extension.sql).
CREATE SCHEMA benefit_internal;
COMMENT ON SCHEMA benefit_internal IS
    'benefit extension: the helpers and trigger functions behind the functions of schema benefit; no role may use it (the functions that call them run as the extension owner)';
REVOKE ALL ON SCHEMA benefit_internal FROM PUBLIC;

-- What moves into it, by concern: the functions no role calls directly, and
-- the type parse_call returns.

-- 08 lifecycle
ALTER FUNCTION benefit.list_validity_problems(timestamptz, timestamptz, date, date) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.check_benefit_update() SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.record_status_change() SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.check_benefit_child() SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.check_still_complete(bigint[]) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.check_live_complete() SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.check_live_references() SET SCHEMA benefit_internal;

-- 11 throttling
ALTER FUNCTION benefit.is_throttled(bigint, text) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.record_code_failures(bigint, text, integer) SET SCHEMA benefit_internal;

-- 12 runtime input
ALTER FUNCTION benefit.require_writable(text) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.resolve_sale(text, text, bigint, boolean) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.channel_id(text) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.read_codes(text[]) SET SCHEMA benefit_internal;

-- 13 code use
ALTER FUNCTION benefit.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text) SET SCHEMA benefit_internal;

-- 15 quotas
ALTER FUNCTION benefit.spread_slots(benefit.counter_kind, bigint, integer) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.maintain_slots() SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.take_slots(text, benefit.counter_kind, bigint, integer) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.take_limited(text, benefit.counter_kind, bigint, bigint, integer, integer) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.units_left(bigint, bigint) SET SCHEMA benefit_internal;

-- 16 eligibility
ALTER FUNCTION benefit.eligibility(bigint, text, text, timestamptz, text[]) SET SCHEMA benefit_internal;

-- 17 pricing
ALTER FUNCTION benefit.price(benefit.basket_line[], bigint, text, text, timestamptz, text[], text) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.price_guarded(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) SET SCHEMA benefit_internal;

-- 18 orders
ALTER FUNCTION benefit.lock_codes(text[]) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.settle(text[], boolean) SET SCHEMA benefit_internal;
ALTER FUNCTION benefit.release_codes(text[], text) SET SCHEMA benefit_internal;

-- 19 JSON clients
ALTER FUNCTION benefit.parse_call(jsonb, text) SET SCHEMA benefit_internal;
ALTER TYPE benefit.call_args SET SCHEMA benefit_internal;

-- benefit_admin called these as itself from the lifecycle triggers; the
-- triggers run as the extension owner now (08_lifecycle.sql), and no role
-- holds a privilege in benefit_internal.
REVOKE EXECUTE ON FUNCTION benefit_internal.check_still_complete(bigint[]),
    benefit_internal.list_validity_problems(timestamptz, timestamptz, date, date) FROM benefit_admin;
