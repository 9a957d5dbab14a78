/*
 * Pricing a basket: per line the best usable tariff (cheapest, then lowest
 * benefit id; quotas honoured in line order), then at most one promo code on
 * the whole basket allocated to the cent.  The pricing is C (price,
 * src/pricing.c, on the money arithmetic of src/money.c, also offered as the
 * money_* functions), with the throttling of wrong code entries;
 * price_basket prices without reserving (see 18_orders.sql for hold, which
 * prices through the same C call).
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.basket_line AS (
    product_id  bigint,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    quantity    integer,
    base_price_cents bigint
);
COMMENT ON TYPE benefit.basket_line IS
    'One line of a basket to price: product, performance, seat category and audience (NULL when the product has none), quantity (1-1000) and the unit price in cents before benefits (NULL: the most specific benefit.base_price row)';
REVOKE ALL ON TYPE benefit.basket_line FROM PUBLIC;
GRANT USAGE ON TYPE benefit.basket_line TO benefit_admin, benefit_sales, benefit_report;

CREATE TYPE benefit.priced_line AS (
    line_no     integer,
    product_id  bigint,
    performance_id bigint,
    seat_category_id bigint,
    audience_id bigint,
    quantity    integer,
    base_price_cents bigint,
    unit_price_cents bigint,
    benefit_id  bigint,
    benefit_code text,
    tariff_id   bigint,
    line_cents  bigint,
    promo_discount_cents bigint,
    total_cents bigint
);
COMMENT ON TYPE benefit.priced_line IS
    'A priced basket line: the unit price after the best benefit (the base price when none applies), the benefit and tariff row used, the line amount (unit price x quantity), its share of the promo discount, and what is left to pay';
REVOKE ALL ON TYPE benefit.priced_line FROM PUBLIC;
GRANT USAGE ON TYPE benefit.priced_line TO benefit_admin, benefit_sales, benefit_report;

CREATE TYPE benefit.refusal AS (
    line_no     integer,
    benefit_id  bigint,
    benefit_code text,
    entered_code text,
    reason      benefit.reason
);
COMMENT ON TYPE benefit.refusal IS
    'Something that was not applied, and why: a benefit on a line (line_no), an entered code that unlocks nothing (entered_code), or the promo code (line_no NULL)';
REVOKE ALL ON TYPE benefit.refusal FROM PUBLIC;
GRANT USAGE ON TYPE benefit.refusal TO benefit_admin, benefit_sales, benefit_report;

CREATE TYPE benefit.priced_basket AS (
    reason      benefit.reason,
    lines       benefit.priced_line[],
    refusals    benefit.refusal[],
    base_cents  bigint,
    lines_cents bigint,
    promo_code  text,
    promo_discount_cents bigint,
    total_cents bigint,
    order_ref   text,
    held_until  timestamptz
);
COMMENT ON TYPE benefit.priced_basket IS
    'Result of price_basket and hold: reason (ok, or why a hold was refused), the priced lines, the refusals, the basket at catalogue prices, after line benefits, the promo code applied and its discount, the total to pay; order_ref and held_until for a hold';
REVOKE ALL ON TYPE benefit.priced_basket FROM PUBLIC;
GRANT USAGE ON TYPE benefit.priced_basket TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.money_unit_price(base_cents bigint, price_cents bigint, amount_off_cents bigint,
                                         percent_off_bp bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'benefit_money_unit_price'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION benefit.money_unit_price(bigint, bigint, bigint, bigint) IS
    'The unit price a tariff row gives on a base price (C, exact cents): a fixed price, an amount off, or a percentage off in basis points (12.5 % = 1250) rounded half up; never below zero';
REVOKE ALL ON FUNCTION benefit.money_unit_price(bigint, bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.money_unit_price(bigint, bigint, bigint, bigint) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.money_basket_discount(total_cents bigint, amount_off_cents bigint, percent_off_bp bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'benefit_money_basket_discount'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION benefit.money_basket_discount(bigint, bigint, bigint) IS
    'A promo code''s discount on a basket total (C, exact cents): an amount or a percentage in basis points rounded half up, never more than the total';
REVOKE ALL ON FUNCTION benefit.money_basket_discount(bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.money_basket_discount(bigint, bigint, bigint) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.money_allocate(discount_cents bigint, weights bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'benefit_money_allocate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.money_allocate(bigint, bigint[]) IS
    'A discount split across lines in proportion to their amounts (C, exact cents): largest remainder first, ties to the earlier line; the parts add up to the discount exactly and no part exceeds its line';
REVOKE ALL ON FUNCTION benefit.money_allocate(bigint, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.money_allocate(bigint, bigint[]) TO benefit_sales, benefit_admin;

-- The pricing of price_basket and hold, in C (src/pricing.c).  Returns the priced basket and,
-- through uses, what a hold must reserve: one object per line priced with a benefit (benefit,
-- units, the performance when the benefit has a per-performance quota, the single-use code
-- entered for it), in line order.
CREATE FUNCTION benefit_internal.price(lines benefit.basket_line[], contact_id bigint, channel text,
                                       point_of_sale text, at timestamptz, codes text[], promo_code text,
                                       OUT result benefit.priced_basket, OUT uses jsonb, OUT promo_id bigint)
AS 'MODULE_PATHNAME', 'benefit_price'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit_internal.price(benefit.basket_line[], bigint, text, text, timestamptz, text[], text) IS
    'The pricing shared by price_basket and hold: the priced basket, the uses a hold must reserve (benefit, units, performance, single-use code per line) and the promo code applied';
REVOKE ALL ON FUNCTION benefit_internal.price(benefit.basket_line[], bigint, text, text, timestamptz, text[], text) FROM PUBLIC;

CREATE FUNCTION benefit.price_basket(lines benefit.basket_line[], contact_id bigint, channel text,
                                     point_of_sale text DEFAULT NULL, at timestamptz DEFAULT NULL,
                                     codes text[] DEFAULT NULL, promo_code text DEFAULT NULL,
                                     client_key text DEFAULT NULL)
RETURNS benefit.priced_basket
AS 'MODULE_PATHNAME', 'benefit_price_basket'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.price_basket(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) IS
    'Prices a basket for a buyer (NULL contact: anonymous) on a channel at a time with the codes entered and at most one promo code: per line the best usable tariff (cheapest, then lowest benefit id; one per line; quotas honoured in line order), then the promo code on the whole basket allocated to the cent; every benefit or code not applied comes back in refusals with its reason; reserves nothing (see hold)';
REVOKE ALL ON FUNCTION benefit.price_basket(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.price_basket(benefit.basket_line[], bigint, text, text, timestamptz, text[], text, text) TO benefit_sales, benefit_admin;
