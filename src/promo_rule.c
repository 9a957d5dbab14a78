/*-------------------------------------------------------------------------
 *
 * promo_rule.c
 *		The conditions of a promo code on a basket (see promo_rule.h).
 *		Plain C99, no PostgreSQL headers: unit-tested by test/unit.
 *
 *-------------------------------------------------------------------------
 */
#include "promo_rule.h"

#include "money.h"

/* The first condition of the promo code that fails, or NULL. */
const char *
promo_refusal(const PromoFacts *f, int64_t at, int64_t lines_total)
{
	if (!f->is_active)
		return "promo_not_active";
	if (f->valid_from_set && f->valid_from > at)
		return "not_yet_valid";
	if (f->valid_until_set && f->valid_until <= at)
		return "expired";
	if (!f->on_channel)
		return "wrong_channel";
	if (!f->level_ok)
		return "indicator_level_required";
	if (f->per_contact_set && !f->has_contact)
		return "contact_required";
	if (f->total_set && f->taken >= f->total)
		return "promo_limit_reached";
	if (f->per_contact_set && f->taken_by_contact >= f->per_contact)
		return "promo_contact_limit_reached";
	if (lines_total < f->min_basket)
		return "min_amount_not_reached";
	if (f->budget_set)
	{
		int64_t		discount;

		/* out of range: not refused here, promo_discount says so to the caller */
		if (promo_discount(f, lines_total, &discount) && discount > f->budget - f->budget_taken)
			return "promo_budget_reached";
	}
	return NULL;
}

/* The discount of an applied promo code. */
bool
promo_discount(const PromoFacts *f, int64_t lines_total, int64_t *discount)
{
	if (f->amount_off_set)
		return bm_basket_discount(lines_total, BM_AMOUNT_OFF, f->amount_off, discount);
	return bm_basket_discount(lines_total, BM_PERCENT_OFF, f->percent_off_bp, discount);
}
