/*-------------------------------------------------------------------------
 *
 * use_rule.h
 *		May this single-use code or this benefit be used by this buyer, on
 *		this channel and point of sale, now: the one rule every entry point
 *		applies (enter_code, available, price_basket and hold through
 *		eligibility, hold_code, redeem_code, release_code, confirm), in
 *		plain C99 (no PostgreSQL headers, no global state).  The SQL glue
 *		reads the facts (src/use_rule_sql.c for SQL and PL/pgSQL callers);
 *		the rule decides, in this order:
 *
 *		invalidated              the code was invalidated by an operator
 *		already_used             the code was used
 *		held_by_other_order      the code is held by another order whose
 *		                         hold has not expired (a hold of this very
 *		                         order, or an expired one, does not count)
 *		benefit_not_live         the benefit is not live
 *		not_yet_valid            before the benefit's valid_from
 *		expired                  at or after its valid_until
 *		wrong_channel            not sold on the sale's channel
 *		wrong_point_of_sale      a web sale on another point of sale than
 *		                         the benefit's
 *		quota_exhausted          its total quota has fewer units left than
 *		                         the use needs (at least one)
 *		contact_quota_exhausted  so has the contact's own limit
 *
 * The quotas are not checked for a code held by the calling order: its
 * units are reserved already.
 *
 * The instant of the decision is the caller's: every runtime call reads the
 * clock once (clock_timestamp()) and judges every deadline and window
 * against that instant.  Times are int64_t microseconds (PostgreSQL's
 * TimestampTz).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_USE_RULE_H
#define BENEFIT_USE_RULE_H

#include <stdbool.h>
#include <stdint.h>

/* The state of a single-use code; USE_NO_CODE when the use is of a benefit alone. */
typedef enum UseCodeState
{
	USE_NO_CODE,
	USE_ISSUED,
	USE_HELD,
	USE_USED,
	USE_INVALIDATED
} UseCodeState;

/* What the rule needs to know; a limit or window not set is not checked. */
typedef struct UseFacts
{
	UseCodeState code_state;
	bool		held_by_this_order; /* the code is held by the calling order */
	int64_t		hold_until;		/* when code_state is USE_HELD */
	bool		benefit_live;
	bool		valid_from_set;
	int64_t		valid_from;
	bool		valid_until_set;
	int64_t		valid_until;
	bool		channel_given;	/* a channel was given: the channel checks apply */
	bool		on_channel;		/* the benefit is sold on it */
	bool		web_channel;	/* it is a web channel */
	bool		benefit_pos_set;	/* the benefit is tied to a web point of sale */
	bool		pos_matches;	/* the sale's point of sale is the benefit's */
	bool		total_set;
	int64_t		total_left;		/* units of the total quota left (held and used taken off) */
	bool		contact_set;
	int64_t		contact_left;	/* units of the contact's limit left */
	int64_t		units;			/* units the use needs (0: a question, counted as 1) */
} UseFacts;

/* NULL when the use is allowed at instant now, else the reason (a benefit.reason label). */
extern const char *use_refusal(const UseFacts *f, int64_t now);

/* The code state from its benefit.code_state label; false for an unknown label. */
extern bool use_code_state(const char *label, UseCodeState *state);

#endif							/* BENEFIT_USE_RULE_H */
