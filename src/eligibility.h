/*-------------------------------------------------------------------------
 *
 * eligibility.h
 *		Who may use what, on the configuration cache (config.h): the rules
 *		of benefit_internal.eligibility in C (eligibility.c), for price
 *		(pricing.c) and available.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_ELIGIBILITY_H
#define BENEFIT_ELIGIBILITY_H

/* after postgres.h */
#include "utils/timestamp.h"

#include "config.h"

/* The sale and the codes a decision is made for. */
typedef struct EligInput
{
	const BenefitConfig *cfg;
	bool		contact_null;
	int64		contact_id;
	int64		channel_id;
	bool		web;			/* the channel is a web channel */
	bool		pos_null;
	int64		pos_id;
	TimestampTz at;
	char	  **entered;		/* the codes entered (benefit_entered_codes), NULL for none */
	int			nentered;
	const int64 *perf_ids;		/* pricing: the lines' performances, for per-performance counters */
	int			nperf;
	const CfgPromo *promo;		/* pricing: the promo code typed, for its counters; NULL for none */
} EligInput;

/* The buyer's own rows (one statement). */
typedef struct EligBuyer
{
	bool		contact_exists;
	int			ncampaigns;
	int64	   *campaigns;
	int			nlevels;
	int64	   *levels;
	int			ncodes;			/* single-use codes found */
	int64	   *code_value;		/* the code (benefit.code's value) */
	int64	   *code_benefit;
	char	  **code_state;
	bool	   *hold_null;
	TimestampTz *hold_until;
} EligBuyer;

/* One row of eligibility: a benefit offered or refused, or an entered code that matches nothing. */
typedef struct EligRow
{
	const CfgBenefit *b;		/* NULL: unknown_code */
	const char *entered;
	const char *su_code;
	const char *reason;
	bool		slots_found;	/* a benefit_slot counter row exists */
	int64		slots_used;		/* held + used on its total quota slots */
	int64		contact_used;	/* held + used by the contact */
	int			nperf;			/* its per-performance figures (pricing) */
	int64	   *perf_ids;
	int64	   *perf_used;
} EligRow;

typedef struct EligResult
{
	int			nrows;
	EligRow    *rows;
	int64		promo_taken;	/* uses of the promo code held and used */
	int64		promo_by_contact;
	int64		promo_budget_taken;
} EligResult;

extern int	benefit_entered_codes(Datum codes, bool codes_null, char ***out);
extern void benefit_check_code_count(Datum codes, bool codes_null);
extern void elig_read_buyer(const EligInput *in, EligBuyer *buyer);
extern void elig_decide(const EligInput *in, const EligBuyer *buyer, EligResult *res);
extern bool elig_has_level(const EligBuyer *buyer, int64 level_id);
extern int	elig_cmp_text(const char *x, const char *y);

#endif							/* BENEFIT_ELIGIBILITY_H */
