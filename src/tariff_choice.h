/*-------------------------------------------------------------------------
 *
 * tariff_choice.h
 *		The choice of a tariff for each line of a basket, in plain C99 (no
 *		PostgreSQL headers, no global state, no allocation): the candidate
 *		(line, usable benefit) pairs with their unit prices, their order,
 *		and the choice in that order with the quotas left, with every
 *		refusal it makes.  The SQL glue (src/pricing.c) reads the figures
 *		and writes the result; the rules are those of README "Pricing
 *		rules":
 *
 *		- a benefit is usable when eligibility says "ok"; a benefit that
 *		  comes twice (two codes of it) counts once, its codes together:
 *		  each single-use code covers code_units units (units_per_code;
 *		  any number when not set), and a line gets the benefit only if the
 *		  units its codes still cover take its whole quantity
 *		  (code_units_exhausted otherwise); a code the chosen lines do not
 *		  need is refused with code_not_needed (codes are applied in code
 *		  order);
 *		- a line's candidate of a usable benefit is the benefit's most
 *		  specific tariff row for the line's product that fits the line
 *		  (bm_match_tariff), priced on the line's base price;
 *		- candidates are taken cheapest first (then the lower benefit id),
 *		  line by line in line order: the first one that is cheaper than
 *		  the base price and fits the quotas left (total and per order,
 *		  per contact, per performance) wins the line, and its units come
 *		  off those quotas; every other candidate is a refusal
 *		  (price_not_lower, not_best, quota_exhausted,
 *		  contact_quota_exhausted, performance_quota_exhausted);
 *		- a code that unlocked a benefit with no tariff row for any line
 *		  is refused with no_tariff.
 *
 * Amounts are int64_t cents (money.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_TARIFF_CHOICE_H
#define BENEFIT_TARIFF_CHOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "money.h"

/* One benefit of the eligibility step, usable or refused. */
typedef struct PriceBenefit
{
	int64_t		id;
	const char *code;			/* benefit code, NULL for an unknown entered code */
	const char *entered;		/* the code text that unlocked it, or NULL */
	const char *su_code;		/* a single-use code entered for it, or NULL */
	const char *reason;			/* "ok" or the refusal */
	int64_t		perf_quota;		/* quota_per_performance, -1 for none */
	int64_t		left;			/* total quota and per-order limit left, -1 for no limit */
	int64_t		cleft;			/* the contact's limit left, -1 for no limit */
	bool		tried;			/* had a tariff row for some line */
	int64_t		code_units;		/* units one single-use code of it covers, -1 for any */
	int			first;			/* a later code of a usable benefit: index of its first row; else -1 */
	int			ncodes;			/* the first row: how many usable codes of it were entered */
	int64_t		cover;			/* the first row: units its codes cover, -1 for no limit */
	int64_t		taken;			/* the first row: units the chosen lines took */
	int64_t		covered;		/* a code's row: units this code covers in the basket */
} PriceBenefit;

/* One basket line. */
typedef struct PriceLine
{
	int64_t		product_id;
	BMDims		dims;			/* performance, seat category, audience (any: not given) */
	int32_t		quantity;
	int64_t		base;			/* base price of a unit */
	bool		base_null;		/* no base price given: the catalogue's */
	int			chosen;			/* index of the winning candidate, -1 for none */
} PriceLine;

/* One tariff row of a usable benefit for a product of the basket. */
typedef struct PriceTariff
{
	int			benefit;		/* index in the PriceBenefit array */
	int64_t		product_id;
	int64_t		tariff_id;
	BMForm		form;
	int64_t		value;
} PriceTariff;

/* One (line, usable benefit) pair with the benefit's most specific tariff row. */
typedef struct PriceCandidate
{
	int			line;			/* 0-based */
	int			benefit;		/* index in the PriceBenefit array */
	int64_t		benefit_id;
	int64_t		tariff_id;
	int64_t		unit;			/* unit price it gives */
} PriceCandidate;

/* Units of a benefit held and used on a performance (no entry: none). */
typedef struct PricePerfUsed
{
	int64_t		benefit_id;
	int64_t		performance_id;
	int64_t		used;
} PricePerfUsed;

/* Units of a benefit left on a performance while the choice goes. */
typedef struct PricePerfLeft
{
	int64_t		benefit_id;
	int64_t		performance_id;
	int64_t		left;
} PricePerfLeft;

/* A refusal of the priced basket. */
typedef struct PriceRefusal
{
	int			line;			/* 1-based, 0 for none */
	int64_t		benefit_id;		/* 0 for none */
	const char *benefit_code;
	const char *entered;
	const char *reason;
} PriceRefusal;

/* Appends a refusal to refusals[0..*n). */
extern void price_add_refusal(PriceRefusal *refusals, int *n, int line, int64_t benefit_id,
							  const char *benefit_code, const char *entered, const char *reason);

/*
 * Writes to ok[] the indexes of the usable benefits among benefits[0..n),
 * in order, the first of each benefit id (given a later one's codes it
 * lacks); returns how many.
 */
extern int	price_usable(PriceBenefit *benefits, int n, int *ok);

/*
 * The units each usable single-use code covers once the lines are chosen
 * (benefits[r].covered), in the order the codes were entered: each code
 * covers code_units units (the first code every unit, when any); a later
 * code that covers none is refused with code_not_needed (no_tariff when its
 * benefit had no tariff row for any line).
 */
extern void price_code_units(PriceBenefit *benefits, int n, PriceRefusal *refusals, int *nrefusals);

/* Index in benefits[] of the usable benefit (one of ok[0..nok)) with id id; -1 if none. */
extern int	price_benefit_index(const PriceBenefit *benefits, const int *ok, int nok, int64_t id);

/* Appends a refusal (line 0) for every benefit of benefits[0..n) that is not usable. */
extern void price_refuse_unusable(const PriceBenefit *benefits, int n, PriceRefusal *refusals, int *nrefusals);

/*
 * The form and value of a tariff row from its three columns, exactly one
 * of which is set: a fixed price, else an amount off, else a percentage
 * off (basis points; 0 when none is set).
 */
extern void price_tariff_form(bool price_null, int64_t price_cents, bool amount_null, int64_t amount_off,
							  bool percent_null, int64_t percent_bp, BMForm *form, int64_t *value);

/*
 * Writes to cands[] the candidates of lines[0..n) among the tariff rows
 * rows[0..nrows) (dimensions in dims[]), ordered by benefit and product,
 * then tariff id, sorted in the order of the choice: by line, then unit
 * price, then benefit id.  cands has room for n times the usable benefits,
 * run for nrows + 1 ints (scratch).  Marks the benefits that got a
 * candidate (tried).  Returns how many, or -1 when a unit price is out of
 * range (money.h).
 */
extern int	price_candidates(const PriceLine *lines, int n, const PriceTariff *rows, const BMDims *dims,
							 int nrows, int *run, PriceBenefit *benefits, PriceCandidate *cands);

/*
 * Chooses in cands[0..ncands) (sorted by price_candidates) each line's
 * winner (lines[].chosen), taking its units off the benefits' quotas left
 * and the per-performance figures used[0..nused); appends a refusal for
 * every other candidate.  perf is scratch room for ncands entries.
 */
extern void price_choose(PriceLine *lines, PriceBenefit *benefits, const PriceCandidate *cands, int ncands,
						 const PricePerfUsed *used, int nused, PricePerfLeft *perf,
						 PriceRefusal *refusals, int *nrefusals);

/* Appends no_tariff for every usable benefit ok[0..nok) unlocked by a code that got no candidate. */
extern void price_refuse_untried(const PriceBenefit *benefits, const int *ok, int nok,
								 PriceRefusal *refusals, int *nrefusals);

/*
 * Writes each line's amount after its benefit (its winner's unit price, or
 * its base price, times its quantity) to amounts[] and their sum to *total;
 * false when an amount is out of range.
 */
extern bool price_line_amounts(const PriceLine *lines, int n, const PriceCandidate *cands,
							   int64_t *amounts, int64_t *total);

#endif							/* BENEFIT_TARIFF_CHOICE_H */
