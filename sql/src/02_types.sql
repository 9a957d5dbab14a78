/*
 * Types: the vocabulary several concerns share.  Who may use a benefit
 * (target_type), where it is in its lifecycle (benefit_status), and why a
 * runtime call accepted or refused something (reason).  A type used by one
 * concern only lives in that concern's file.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.target_type AS ENUM
    ('public', 'contacts', 'indicator', 'partner', 'single_use');
COMMENT ON TYPE benefit.target_type IS
    'Who may use a benefit: public (anyone, anonymous included), contacts (a campaign''s target list), indicator (contacts at an indicator level, evaluated live), partner (holders of one shared access code), single_use (holders of a single-use code)';
REVOKE ALL ON TYPE benefit.target_type FROM PUBLIC;
GRANT USAGE ON TYPE benefit.target_type TO benefit_admin, benefit_sales, benefit_report;

CREATE TYPE benefit.benefit_status AS ENUM
    ('draft', 'validated', 'live', 'suspended', 'closed');
COMMENT ON TYPE benefit.benefit_status IS
    'Lifecycle of a benefit: draft -> validated -> live <-> suspended -> closed; closed is final';
REVOKE ALL ON TYPE benefit.benefit_status FROM PUBLIC;
GRANT USAGE ON TYPE benefit.benefit_status TO benefit_admin, benefit_sales, benefit_report;

CREATE TYPE benefit.reason AS ENUM (
    'ok', 'unknown_code', 'already_used', 'invalidated', 'held_by_other_order', 'benefit_not_live',
    'not_yet_valid', 'expired', 'wrong_channel', 'wrong_point_of_sale',
    -- basket pricing and holds
    'no_tariff', 'not_best', 'price_not_lower', 'quota_exhausted', 'performance_quota_exhausted',
    'contact_quota_exhausted', 'unknown_promo_code', 'promo_not_active', 'indicator_level_required',
    'contact_required', 'promo_limit_reached', 'promo_contact_limit_reached', 'min_amount_not_reached',
    'order_already_held', 'unknown_order', 'hold_expired', 'already_confirmed', 'already_released',
    -- repeated wrong code entries
    'throttled',
    -- 0.3.0: several codes in a basket, promo budgets, refunds
    'code_not_needed', 'promo_budget_reached', 'not_confirmed', 'ticket_refunded', 'code_units_exhausted', 'already_refunded');
COMMENT ON TYPE benefit.reason IS
    'Why a runtime call accepted or refused something: business refusals are results with a reason, not errors (README lists each)';
REVOKE ALL ON TYPE benefit.reason FROM PUBLIC;
GRANT USAGE ON TYPE benefit.reason TO benefit_admin, benefit_sales, benefit_report;
