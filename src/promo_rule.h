/*-------------------------------------------------------------------------
 *
 * promo_rule.h
 *		The conditions of a promo code on a basket, in plain C99 (no
 *		PostgreSQL headers, no global state, no allocation).  The SQL glue
 *		(src/pricing.c) reads the promo code and the figures below; the
 *		rule says whether the code applies and, if not, why: the first
 *		condition that fails, in this order:
 *
 *		promo_not_active             the code is switched off
 *		not_yet_valid                valid_from is after the sale
 *		expired                      valid_until is at or before the sale
 *		wrong_channel                not valid on the sale's channel
 *		indicator_level_required     the contact lacks the indicator level
 *		contact_required             a per-contact limit and no contact
 *		promo_limit_reached          the total limit is taken
 *		promo_contact_limit_reached  the contact's limit is taken
 *		min_amount_not_reached       the basket after line benefits is
 *		                             below the minimum
 *		promo_budget_reached         the basket's discount is more than
 *		                             the budget left (max_discount_cents_total
 *		                             less the discount held and used)
 *
 * The budget comes last: it needs the discount, which is only meaningful on
 * a basket the code otherwise applies to.  A basket whose discount would
 * cross the budget is refused the code, never given part of it; a discount
 * of exactly the budget left applies.  The budget left is read when the
 * basket is priced: a hold takes the discount on the budget exactly
 * (benefit_internal.take_promo) and may still be refused there.
 *
 * An applied code's discount is its amount or percentage off the basket
 * total after line benefits, never more than that total (money.h).
 * Times are microseconds on one clock (PostgreSQL's TimestampTz).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_PROMO_RULE_H
#define BENEFIT_PROMO_RULE_H

#include <stdbool.h>
#include <stdint.h>

/* A promo code and what its conditions need to know about the sale. */
typedef struct PromoFacts
{
	bool		is_active;
	bool		valid_from_set;
	int64_t		valid_from;
	bool		valid_until_set;
	int64_t		valid_until;
	bool		on_channel;		/* valid on every channel, or on the sale's */
	bool		level_ok;		/* no indicator level required, or the contact has it */
	bool		has_contact;	/* the sale names a contact */
	bool		per_contact_set;	/* a per-contact limit is set */
	int64_t		per_contact;	/* max_uses_per_contact */
	bool		total_set;		/* a total limit is set */
	int64_t		total;			/* max_uses_total */
	int64_t		taken;			/* uses held and used in all */
	int64_t		taken_by_contact;	/* uses held and used by the contact */
	int64_t		min_basket;		/* min_basket_cents */
	bool		amount_off_set; /* amount_off_cents, else percent_off_bp */
	int64_t		amount_off;
	int64_t		percent_off_bp;
	bool		budget_set;		/* a budget is set */
	int64_t		budget;			/* max_discount_cents_total */
	int64_t		budget_taken;	/* discount cents held and used in all */
} PromoFacts;

/*
 * NULL when the promo code f applies to a basket of lines_total cents
 * (after line benefits) sold at at; else the reason it does not.
 */
extern const char *promo_refusal(const PromoFacts *f, int64_t at, int64_t lines_total);

/*
 * The discount of the promo code f on a basket of lines_total cents, into
 * *discount; false when an amount is out of range (money.h).
 */
extern bool promo_discount(const PromoFacts *f, int64_t lines_total, int64_t *discount);

#endif							/* BENEFIT_PROMO_RULE_H */
