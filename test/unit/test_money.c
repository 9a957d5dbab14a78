/*-------------------------------------------------------------------------
 *
 * test_money.c
 *		Standalone unit tests of src/money.c (unit prices, rounding, best
 *		tariff, basket discount and its allocation to the cent).
 *
 * Prints one TAP-like line per test and a summary, and exits non-zero if
 * any test failed.  Expected cents were worked out by hand; the random
 * allocation tests check the properties (exact sum, no line above its
 * total, every part within one cent of its exact share) on baskets from a
 * deterministically seeded xorshift64 PRNG.
 *
 * Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "money.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NRANDOM_BASKETS 100000
#define MAX_LINES		20

static uint64_t prng_state = UINT64_C(0x2545F4914F6CDD1D);

/* Returns the next value of a xorshift64 PRNG (fixed seed above). */
static uint64_t
xorshift64(void)
{
	uint64_t	x = prng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	prng_state = x;
	return x;
}

/* pct of amount, or -1 when refused. */
static int64_t
pct(int64_t amount, int64_t bp)
{
	int64_t		r;

	return bm_percent_of(amount, bp, &r) ? r : -1;
}

/* unit price, or -1 when refused. */
static int64_t
unit(int64_t base, BMForm form, int64_t value)
{
	int64_t		r;

	return bm_unit_price(base, form, value, &r) ? r : -1;
}

/* basket discount, or -1 when refused. */
static int64_t
disc(int64_t total, BMForm form, int64_t value)
{
	int64_t		r;

	return bm_basket_discount(total, form, value, &r) ? r : -1;
}

/* allocates and compares with the expected parts. */
static bool
alloc_is(int64_t d, const int64_t *w, size_t n, const int64_t *expected)
{
	int64_t		parts[MAX_LINES];

	return bm_allocate(d, w, n, parts) && memcmp(parts, expected, n * sizeof(int64_t)) == 0;
}

static void
test_percent(void)
{
	check(pct(333, 1000) == 33, "10 % of 3.33 is 0.33 (0.333 rounds down)");
	check(pct(10, 1500) == 2, "15 % of 0.10 is 0.02 (0.015 rounds half up)");
	check(pct(100, 1250) == 13, "12.5 % of 1.00 is 0.13 (half up)");
	check(pct(999, 3333) == 333, "33.33 % of 9.99 is 3.33 (3.329667)");
	check(pct(4999, 10000) == 4999, "100 % of an amount is the amount");
	check(pct(4999, 0) == 0, "0 % is nothing");
	check(pct(1, 4999) == 0 && pct(1, 5000) == 1, "half a cent rounds up, less rounds down");
	check(pct(BM_MAX_CENTS, 10000) == BM_MAX_CENTS, "the largest amount at 100 % does not overflow");
	check(pct(BM_MAX_CENTS, 9999) == BM_MAX_CENTS - BM_MAX_CENTS / 10000, "99.99 % of the largest amount is exact");
	check(pct(-1, 1000) == -1, "a negative amount is refused");
	check(pct(BM_MAX_CENTS + 1, 1000) == -1, "an amount above the maximum is refused");
	check(pct(100, 10001) == -1 && pct(100, -1) == -1, "a percentage outside 0..100 is refused");
}

static void
test_unit_price(void)
{
	check(unit(2000, BM_FIXED_PRICE, 1500) == 1500, "a fixed price is the price");
	check(unit(2000, BM_FIXED_PRICE, 2500) == 2500, "a fixed price above the base is kept as it is");
	check(unit(2000, BM_FIXED_PRICE, 0) == 0, "a fixed price of zero (free ticket)");
	check(unit(2000, BM_AMOUNT_OFF, 500) == 1500, "5.00 off 20.00 is 15.00");
	check(unit(2000, BM_AMOUNT_OFF, 3000) == 0, "more off than the price gives zero, never below");
	check(unit(2000, BM_AMOUNT_OFF, 2000) == 0, "exactly the price off gives zero");
	check(unit(3333, BM_PERCENT_OFF, 1000) == 3000, "10 % off 33.33 is 30.00 (3.333 off rounds to 3.33)");
	check(unit(3335, BM_PERCENT_OFF, 1000) == 3001, "10 % off 33.35 is 30.01 (3.335 off rounds half up to 3.34)");
	check(unit(2000, BM_PERCENT_OFF, 10000) == 0, "100 % off is free");
	check(unit(1999, BM_PERCENT_OFF, 5000) == 999, "50 % off 19.99 is 9.99 (9.995 off rounds up to 10.00)");
	check(unit(-5, BM_AMOUNT_OFF, 1) == -1, "a negative base price is refused");
	check(unit(100, BM_AMOUNT_OFF, -1) == -1, "a negative amount off is refused");
	check(unit(100, BM_PERCENT_OFF, 10001) == -1, "more than 100 % off is refused");
	check(unit(100, (BMForm) 7, 1) == -1, "an unknown form is refused");
}

static void
test_multiply(void)
{
	int64_t		r = 0;

	check(bm_multiply(3000, 3, &r) && r == 9000, "3 x 30.00 is 90.00");
	check(bm_multiply(0, 5, &r) && r == 0, "a free ticket times 5 is free");
	check(!bm_multiply(INT64_C(1000000000000), 10000, &r), "a product above the maximum is refused");
	check(!bm_multiply(INT64_MAX, 2, &r), "an overflowing product is refused");
	check(!bm_multiply(-1, 2, &r), "a negative factor is refused");
}

static void
test_best(void)
{
	BMCandidate c1[] = {{1500, 7, true}, {1200, 9, true}, {1300, 1, true}};
	BMCandidate c2[] = {{1200, 9, true}, {1200, 3, true}, {1200, 5, true}};
	BMCandidate c3[] = {{1000, 1, false}, {1500, 2, true}};
	BMCandidate c4[] = {{1000, 1, false}, {900, 2, false}};
	BMCandidate c5[] = {{1200, 4, true}, {1200, 4, true}};

	check(bm_best(c1, 3) == 1, "the lowest unit price wins");
	check(bm_best(c2, 3) == 1, "on equal prices the lowest rank (benefit id) wins");
	check(bm_best(c3, 2) == 1, "an unusable candidate is skipped even if cheaper");
	check(bm_best(c4, 2) == -1, "no usable candidate: -1");
	check(bm_best(c4, 0) == -1, "no candidate at all: -1");
	check(bm_best(c5, 2) == 0, "a full tie goes to the first one");
}

/* A tariff row or a line: dimensions given as ids, 0 meaning "not set". */
static BMDims
dims(int64_t performance, int64_t seat, int64_t audience)
{
	BMDims		d;

	d.performance_id = performance;
	d.performance_any = performance == 0;
	d.seat_category_id = seat;
	d.seat_any = seat == 0;
	d.audience_id = audience;
	d.audience_any = audience == 0;
	return d;
}

/* bm_match_tariff for a line with these ids (0: not set) */
static int
match(const BMDims *rows, size_t n, int64_t performance, int64_t seat, int64_t audience)
{
	BMDims		line = dims(performance, seat, audience);

	return bm_match_tariff(rows, n, &line);
}

static void
test_match_tariff(void)
{
	/* rows of one benefit and product, in tariff id order */
	BMDims		rows[] = {dims(0, 0, 0), dims(0, 5, 0), dims(0, 5, 9), dims(7, 0, 0), dims(0, 0, 9)};
	BMDims		open_only[] = {dims(0, 0, 0)};
	BMDims		tie[] = {dims(7, 0, 0), dims(0, 5, 0)};
	BMDims		none_fit[] = {dims(7, 0, 0), dims(0, 6, 0)};

	check(match(rows, 5, 0, 0, 0) == 0,
		  "a line without performance, seat category or audience gets the open row only");
	check(match(rows, 5, 1, 5, 2) == 1, "a row set on the line's seat category beats the open row");
	check(match(rows, 5, 1, 5, 9) == 2, "two dimensions set beat one");
	check(match(rows, 5, 7, 4, 2) == 3, "a row set on the line's performance fits");
	check(match(rows, 5, 7, 5, 2) == 1, "equally specific rows: the first (lower tariff id) wins");
	check(match(rows, 5, 0, 5, 0) == 1,
		  "a row set on a dimension the line leaves open does not fit it, the other rows do");
	check(match(open_only, 1, 3, 4, 5) == 0, "an open row fits every line");
	check(match(tie, 2, 7, 5, 0) == 0, "a tie between dimensions goes to the first row");
	check(match(none_fit, 2, 8, 5, 0) == -1, "no row fits: -1");
	check(match(none_fit, 0, 8, 5, 0) == -1, "no row at all: -1");
}

static void
test_basket_discount(void)
{
	check(disc(999, BM_PERCENT_OFF, 1000) == 100, "10 % of 3 x 3.33 = 9.99 is 1.00 (0.999 half up)");
	check(disc(3000, BM_AMOUNT_OFF, 5000) == 3000, "an amount above the basket is capped at the basket");
	check(disc(3000, BM_AMOUNT_OFF, 500) == 500, "an amount below the basket is taken whole");
	check(disc(0, BM_PERCENT_OFF, 1000) == 0, "a discount on an empty basket is zero");
	check(disc(3000, BM_FIXED_PRICE, 500) == -1, "a fixed price is not a basket discount");
	check(disc(-1, BM_AMOUNT_OFF, 500) == -1, "a negative total is refused");
}

static void
test_allocate(void)
{
	int64_t		w1[] = {333, 333, 333};
	int64_t		e1[] = {34, 33, 33};
	int64_t		w2[] = {1, 1, 1};
	int64_t		e2[] = {1, 0, 0};
	int64_t		w3[] = {0, 10, 0, 4};
	int64_t		e3[] = {0, 5, 0, 2};
	int64_t		w4[] = {1000, 3000, 6000};
	int64_t		e4[] = {100, 300, 600};
	int64_t		w5[] = {100, 200, 300};
	int64_t		e5[] = {100, 200, 300};
	int64_t		w6[] = {500, 501};
	int64_t		e6[] = {1, 2};
	int64_t		w7[] = {0, 0};
	int64_t		e7[] = {0, 0};
	int64_t		w8[] = {BM_MAX_CENTS / 2, BM_MAX_CENTS / 2};
	int64_t		e8[] = {BM_MAX_CENTS / 4 + 1, BM_MAX_CENTS / 4};
	int64_t		parts[MAX_LINES];

	check(alloc_is(100, w1, 3, e1), "1.00 over 3 x 3.33: 0.34 + 0.33 + 0.33, the leftover cent to the first line");
	check(alloc_is(1, w2, 3, e2), "one cent over three equal lines goes to the first");
	check(alloc_is(7, w3, 4, e3), "free lines get nothing; 0.07 over 0.10 and 0.04 is 0.05 + 0.02");
	check(alloc_is(1000, w4, 3, e4), "an exact proportional split has no leftover");
	check(alloc_is(600, w5, 3, e5), "a discount equal to the basket takes each line whole");
	check(alloc_is(3, w6, 2, e6), "0.03 over 5.00 and 5.01: 1.497 and 1.503, the larger remainder gets the cent");
	check(alloc_is(0, w7, 2, e7), "nothing to split over free lines");
	check(alloc_is(BM_MAX_CENTS / 2 + 1, w8, 2, e8), "the largest amounts do not overflow");
	check(!bm_allocate(601, w5, 3, parts), "a discount above the basket is refused");
	check(!bm_allocate(1, w7, 2, parts), "a discount over a zero basket is refused");
	check(!bm_allocate(-1, w5, 3, parts), "a negative discount is refused");
}

/* Random baskets: the parts add up, stay under their lines, within a cent of the exact share. */
static void
test_allocate_random(void)
{
	int			bad_sum = 0;
	int			bad_bound = 0;
	int			bad_share = 0;
	int			bad_again = 0;

	for (int k = 0; k < NRANDOM_BASKETS; k++)
	{
		size_t		n = 1 + (size_t) (xorshift64() % MAX_LINES);
		int64_t		w[MAX_LINES];
		int64_t		parts[MAX_LINES];
		int64_t		again[MAX_LINES];
		int64_t		total = 0;
		int64_t		d;
		int64_t		sum = 0;

		for (size_t i = 0; i < n; i++)
		{
			/* mostly small prices, some zero, some large */
			switch (xorshift64() % 4)
			{
				case 0:
					w[i] = 0;
					break;
				case 1:
					w[i] = (int64_t) (xorshift64() % 100);
					break;
				case 2:
					w[i] = (int64_t) (xorshift64() % 100000);
					break;
				default:
					w[i] = (int64_t) (xorshift64() % INT64_C(10000000000));
					break;
			}
			total += w[i];
		}
		d = total == 0 ? 0 : (int64_t) (xorshift64() % (uint64_t) (total + 1));
		if (!bm_allocate(d, w, n, parts) || !bm_allocate(d, w, n, again))
		{
			bad_sum++;
			continue;
		}
		for (size_t i = 0; i < n; i++)
		{
			long double exact = total ? (long double) d * w[i] / total : 0;

			sum += parts[i];
			if (parts[i] < 0 || parts[i] > w[i])
				bad_bound++;
			if ((long double) parts[i] < exact - 1 || (long double) parts[i] > exact + 1)
				bad_share++;
			if (parts[i] != again[i])
				bad_again++;
		}
		if (sum != d)
			bad_sum++;
	}
	check(bad_sum == 0, "random baskets: the parts always add up to the discount exactly");
	check(bad_bound == 0, "random baskets: no part is negative or above its line");
	check(bad_share == 0, "random baskets: every part is within one cent of its exact share");
	check(bad_again == 0, "random baskets: the same basket always gets the same split");
}

int
main(void)
{
	test_percent();
	test_unit_price();
	test_multiply();
	test_best();
	test_match_tariff();
	test_basket_discount();
	test_allocate();
	test_allocate_random();
	return check_summary("test_money");
}
