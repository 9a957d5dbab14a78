-- 0.3.0, using single-use codes (sql/src/13_code_use.sql): check_code_use takes
-- the contact, the units and the call's instant, and applies the one rule
-- (benefit_internal.use_reason); the old signature goes.
DROP FUNCTION benefit_internal.check_code_use(benefit.code_state, text, timestamptz, bigint, text, text, text);
