/*-------------------------------------------------------------------------
 *
 * money.c
 *		Exact money arithmetic of basket pricing (see money.h for the
 *		rounding and allocation rules).  Integer cents only: no floating
 *		point anywhere.
 *
 *-------------------------------------------------------------------------
 */
#include "money.h"

#ifndef __SIZEOF_INT128__
#error "money.c needs a 128-bit integer type (gcc or clang on a 64-bit target)"
#endif

/* D * t_i can reach 10^30: products are computed in 128 bits. */
__extension__ typedef unsigned __int128 bm_u128;

static bool
in_range(int64_t cents)
{
	return cents >= 0 && cents <= BM_MAX_CENTS;
}

bool
bm_percent_of(int64_t amount, int64_t pct, int64_t *out)
{
	if (!in_range(amount) || pct < 0 || pct > BM_FULL_PERCENT)
		return false;
	/* amount * pct <= 10^19 does not fit in int64_t: compute in 128 bits */
	*out = (int64_t) (((bm_u128) amount * (bm_u128) pct + BM_FULL_PERCENT / 2) / BM_FULL_PERCENT);
	return true;
}

bool
bm_unit_price(int64_t base_cents, BMForm form, int64_t value, int64_t *out)
{
	int64_t		off;

	if (!in_range(base_cents))
		return false;
	switch (form)
	{
		case BM_FIXED_PRICE:
			if (!in_range(value))
				return false;
			*out = value;
			return true;
		case BM_AMOUNT_OFF:
			if (!in_range(value))
				return false;
			*out = value >= base_cents ? 0 : base_cents - value;
			return true;
		case BM_PERCENT_OFF:
			if (!bm_percent_of(base_cents, value, &off))
				return false;
			*out = base_cents - off;
			return true;
	}
	return false;
}

bool
bm_multiply(int64_t a, int64_t b, int64_t *out)
{
	int64_t		r;

	if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) || r > BM_MAX_CENTS)
		return false;
	*out = r;
	return true;
}

int
bm_best(const BMCandidate *cands, size_t n)
{
	int			best = -1;

	for (size_t i = 0; i < n; i++)
	{
		if (!cands[i].usable)
			continue;
		if (best < 0 ||
			cands[i].unit_cents < cands[best].unit_cents ||
			(cands[i].unit_cents == cands[best].unit_cents && cands[i].rank < cands[best].rank))
			best = (int) i;
	}
	return best;
}

/* True if a row's dimension (open, or set to id) fits the line's. */
static bool
dim_fits(bool row_any, int64_t row_id, bool line_any, int64_t line_id)
{
	return row_any || (!line_any && row_id == line_id);
}

int
bm_match_tariff(const BMDims *rows, size_t n, const BMDims *line)
{
	int			best = -1;
	int			best_set = -1;

	for (size_t i = 0; i < n; i++)
	{
		const BMDims *r = &rows[i];
		int			set;

		if (!dim_fits(r->performance_any, r->performance_id, line->performance_any, line->performance_id) ||
			!dim_fits(r->seat_any, r->seat_category_id, line->seat_any, line->seat_category_id) ||
			!dim_fits(r->audience_any, r->audience_id, line->audience_any, line->audience_id))
			continue;
		set = !r->performance_any + !r->seat_any + !r->audience_any;
		if (set > best_set)
		{
			best = (int) i;
			best_set = set;
		}
	}
	return best;
}

bool
bm_basket_discount(int64_t total, BMForm form, int64_t value, int64_t *out)
{
	if (!in_range(total) || !in_range(value))
		return false;
	switch (form)
	{
		case BM_PERCENT_OFF:
			return bm_percent_of(total, value, out);
		case BM_AMOUNT_OFF:
			*out = value > total ? total : value;
			return true;
		case BM_FIXED_PRICE:
			break;
	}
	return false;
}

bool
bm_allocate(int64_t discount, const int64_t *weights, size_t n, int64_t *parts)
{
	int64_t		sum = 0;
	int64_t		given = 0;

	if (!in_range(discount))
		return false;
	for (size_t i = 0; i < n; i++)
	{
		if (!in_range(weights[i]) || sum > BM_MAX_CENTS - weights[i])
			return false;
		sum += weights[i];
	}
	if (discount > sum)
		return false;
	if (sum == 0)
	{
		for (size_t i = 0; i < n; i++)
			parts[i] = 0;
		return true;
	}

	/* floors first */
	for (size_t i = 0; i < n; i++)
	{
		parts[i] = (int64_t) (((bm_u128) discount * (bm_u128) weights[i]) / (bm_u128) sum);
		given += parts[i];
	}

	/*
	 * Then the cents left (fewer than n) one by one to the largest remainder
	 * not served yet, the earlier line first on a tie.  O(n * left): baskets
	 * are small.  A line whose remainder is 0 already has its exact share,
	 * so it never gets a cent and parts[i] <= weights[i] holds.
	 */
	while (given < discount)
	{
		int64_t		best_rem = -1;
		size_t		best = 0;

		for (size_t i = 0; i < n; i++)
		{
			int64_t		rem;

			rem = (int64_t) (((bm_u128) discount * (bm_u128) weights[i]) % (bm_u128) sum);
			/* a line already topped up has its remainder used: mark it with -1 */
			if (parts[i] * (bm_u128) sum > (bm_u128) discount * (bm_u128) weights[i])
				rem = -1;
			if (rem > best_rem)
			{
				best_rem = rem;
				best = i;
			}
		}
		if (best_rem <= 0)
			return false;		/* cannot happen: the leftover is below the count of positive remainders */
		parts[best]++;
		given++;
	}
	return true;
}
