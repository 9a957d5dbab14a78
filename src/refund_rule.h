/*-------------------------------------------------------------------------
 *
 * refund_rule.h
 *		What a refund gives back, in plain C99 (no PostgreSQL headers, no
 *		global state): the units of each counter row the order reserved,
 *		and which of the order's single-use codes return to issued.  The
 *		SQL glue (src/refund.c) reads the order, checks the call and writes;
 *		these functions decide (README, "Refunds"; sql/src/18_refunds.sql):
 *
 *	- The refund that completes the order gives back everything the order
 *	  still holds on every counter row, and every code it still uses.
 *	- Otherwise the refunded units of each benefit go back on its
 *	  total-quota slots (greedily, by key), on its performance's counter and
 *	  on the order's contact's counter; nothing else (the promo use stays).
 *	- A code returns as soon as the units of its benefit still sold in the
 *	  order are covered by the order's other codes of that benefit, codes
 *	  being given back from the highest code down; a code without units
 *	  covers every unit of its benefit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_REFUND_RULE_H
#define BENEFIT_REFUND_RULE_H

#include <stdbool.h>
#include <stdint.h>

/* A line of the order and what this refund takes of it. */
typedef struct RefundLine
{
	int32_t		line_no;
	int64_t		sold;			/* units of the line */
	int64_t		refunded;		/* units earlier refunds took */
	int64_t		now;			/* units this refund takes */
	bool		has_benefit;
	int64_t		benefit_id;
	bool		has_performance;
	int64_t		performance_id;
} RefundLine;

/* The kinds of counter row a partial refund gives back on; the others only a complete one. */
typedef enum RefundCounterKind
{
	REFUND_BENEFIT_SLOT,
	REFUND_BENEFIT_PERFORMANCE,
	REFUND_BENEFIT_CONTACT,
	REFUND_OTHER_COUNTER
} RefundCounterKind;

/* A counter row the order reserved, what it still holds, and what this refund gives back. */
typedef struct RefundCounter
{
	RefundCounterKind kind;
	int64_t		owner_id;
	int64_t		key;
	int64_t		remaining;		/* reserved, less what earlier refunds gave back */
	int64_t		back;			/* out: units given back now (0: none) */
} RefundCounter;

/* A single-use code of the order, in ascending code order. */
typedef struct RefundCode
{
	int64_t		benefit_id;
	bool		has_units;		/* false: it covers every unit of its benefit */
	int64_t		units;
	bool		used_here;		/* used, by this order */
	bool		back;			/* out: returns to issued */
} RefundCode;

extern int64_t refund_units_left(const RefundLine *lines, int nlines);
extern void refund_counters(RefundCounter *counters, int ncounters,
							const RefundLine *lines, int nlines,
							bool has_contact, int64_t contact_id, bool complete);
extern void refund_codes(RefundCode *codes, int ncodes,
						 const RefundLine *lines, int nlines, bool complete);

#endif							/* BENEFIT_REFUND_RULE_H */
