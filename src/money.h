/*-------------------------------------------------------------------------
 *
 * money.h
 *		Exact money arithmetic of basket pricing: the price a tariff row
 *		gives, the choice of the best tariff for a line, a promo code's
 *		discount and its allocation across lines to the cent.  Pure C99 (C
 *		standard library only, no PostgreSQL headers), no global state, no
 *		allocation; the SQL wrappers (src/money_sql.c) and the pricing
 *		(src/pricing.c, src/tariff_choice.c, src/promo_rule.c) use it.
 *
 * Amounts are int64_t cents (minor units).  Percentages are int64_t basis
 * points: hundredths of a percent, so 12.5 % is 1250 and 100 % is 10000
 * (the tables allow at most two decimals, so this is exact).
 *
 * Rounding.  A percentage of an amount is rounded half up to the cent:
 * 10 % of 3.33 is 0.333 -> 0.33, 15 % of 0.10 is 0.015 -> 0.02.  Prices
 * never go below zero.  A percent-off tariff is applied to the unit price
 * (then multiplied by the quantity), so every ticket of a line costs the
 * same; a promo code's percentage is applied to the basket total.
 *
 * Allocation.  A basket discount D is split across lines in proportion to
 * their totals by the largest-remainder method: each line first gets
 * floor(D * t_i / T); the cents left over go one each to the lines with the
 * largest remainders (D * t_i mod T), ties to the earlier line.  The parts
 * add up to D exactly and no line gets more than its total.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_MONEY_H
#define BENEFIT_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest amount handled anywhere: 10^15 cents (ten thousand billion). */
#define BM_MAX_CENTS	INT64_C(1000000000000000)

/* 100 % in basis points. */
#define BM_FULL_PERCENT INT64_C(10000)

/* The three forms of a tariff row. */
typedef enum BMForm
{
	BM_FIXED_PRICE,				/* value: the price in cents */
	BM_AMOUNT_OFF,				/* value: cents off the base price */
	BM_PERCENT_OFF				/* value: basis points off the base price */
} BMForm;

/* One candidate price for a line. */
typedef struct BMCandidate
{
	int64_t		unit_cents;		/* unit price it gives */
	int64_t		rank;			/* tie-break: the lower rank wins (benefit id) */
	bool		usable;			/* false: quota or rule refused it */
} BMCandidate;

/*
 * pct of amount, rounded half up; false if an argument is out of range
 * (amount outside 0..BM_MAX_CENTS, pct outside 0..BM_FULL_PERCENT).
 */
extern bool bm_percent_of(int64_t amount, int64_t pct, int64_t *out);

/*
 * The unit price a tariff row gives on a base price: never below zero, and
 * never above the base price for the "off" forms.  A fixed price is taken
 * as it is, even above the base price (the caller decides whether it is a
 * benefit).  False if an argument is out of range.
 */
extern bool bm_unit_price(int64_t base_cents, BMForm form, int64_t value, int64_t *out);

/* a * b into *out; false on overflow or a result above BM_MAX_CENTS. */
extern bool bm_multiply(int64_t a, int64_t b, int64_t *out);

/*
 * The dimensions of a tariff row or of a basket line: performance, seat
 * category and audience, each an id or "any" (a row that leaves it open, a
 * line that does not say).
 */
typedef struct BMDims
{
	int64_t		performance_id;
	int64_t		seat_category_id;
	int64_t		audience_id;
	bool		performance_any;
	bool		seat_any;
	bool		audience_any;
} BMDims;

/*
 * Index of the tariff row that prices a line, among rows[0..n) of one
 * benefit and product in tariff id order: of the rows that fit the line
 * (every dimension open, or set to the line's value; a line that does not
 * say fits open rows only), the most specific (most dimensions set), then
 * the first; -1 if none fits.
 */
extern int	bm_match_tariff(const BMDims *rows, size_t n, const BMDims *line);

/*
 * Index of the best usable candidate: lowest unit price, then lowest rank,
 * then first in the array; -1 if none is usable.
 */
extern int	bm_best(const BMCandidate *cands, size_t n);

/*
 * A basket discount on a total: pct (form BM_PERCENT_OFF) or a fixed
 * amount (BM_AMOUNT_OFF), never more than the total.  False if an argument
 * is out of range or the form is BM_FIXED_PRICE.
 */
extern bool bm_basket_discount(int64_t total, BMForm form, int64_t value, int64_t *out);

/*
 * Splits discount across n lines in proportion to weights (line totals),
 * largest remainder first, ties to the earlier line; parts[i] never exceeds
 * weights[i] and the parts add up to discount exactly.  False if an
 * argument is out of range, or discount exceeds the sum of the weights, or
 * the weights sum to zero while discount is not zero.
 */
extern bool bm_allocate(int64_t discount, const int64_t *weights, size_t n, int64_t *parts);

#endif							/* BENEFIT_MONEY_H */
