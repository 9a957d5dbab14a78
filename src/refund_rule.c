/*-------------------------------------------------------------------------
 *
 * refund_rule.c
 *		What a refund gives back: counter units and codes (refund_rule.h).
 *
 * Orders are small (a few lines, codes and counter rows), so each decision
 * scans the arrays it needs rather than indexing them: the results do not
 * depend on the order of the lines or counter rows, only on the code order.
 *
 *-------------------------------------------------------------------------
 */
#include "refund_rule.h"

/* What a code without units covers: more than any order sells. */
#define REFUND_ALL_UNITS INT64_C(1000000000)

/* Returns the units the order has left to refund after this refund. */
int64_t
refund_units_left(const RefundLine *lines, int nlines)
{
	int64_t		left = 0;

	for (int i = 0; i < nlines; i++)
		left += lines[i].sold - lines[i].refunded - lines[i].now;
	return left;
}

/*
 * Returns the units this refund takes of the lines of benefit_id, and of
 * those only on performance_id when on_performance.
 */
static int64_t
units_now(const RefundLine *lines, int nlines, int64_t benefit_id,
		  bool on_performance, int64_t performance_id)
{
	int64_t		units = 0;

	for (int i = 0; i < nlines; i++)
		if (lines[i].has_benefit && lines[i].benefit_id == benefit_id &&
			(!on_performance ||
			 (lines[i].has_performance && lines[i].performance_id == performance_id)))
			units += lines[i].now;
	return units;
}

/*
 * Sets back of each counter row: all it still holds when the refund
 * completes the order; else the units this refund takes of its benefit
 * (of its performance, for a performance row; for a contact row, only the
 * order's contact's), spread over a benefit's slots greedily by key.
 */
void
refund_counters(RefundCounter *counters, int ncounters,
				const RefundLine *lines, int nlines,
				bool has_contact, int64_t contact_id, bool complete)
{
	for (int i = 0; i < ncounters; i++)
	{
		RefundCounter *c = &counters[i];
		int64_t		wanted = 0;
		int64_t		before = 0; /* what the benefit's earlier slots hold */

		c->back = 0;
		if (c->remaining <= 0)
			continue;
		if (complete)
		{
			c->back = c->remaining;
			continue;
		}
		switch (c->kind)
		{
			case REFUND_BENEFIT_SLOT:
				wanted = units_now(lines, nlines, c->owner_id, false, 0);
				for (int j = 0; j < ncounters; j++)
					if (counters[j].kind == REFUND_BENEFIT_SLOT &&
						counters[j].owner_id == c->owner_id &&
						counters[j].key < c->key && counters[j].remaining > 0)
						before += counters[j].remaining;
				break;
			case REFUND_BENEFIT_PERFORMANCE:
				wanted = units_now(lines, nlines, c->owner_id, true, c->key);
				break;
			case REFUND_BENEFIT_CONTACT:
				if (has_contact && c->key == contact_id)
					wanted = units_now(lines, nlines, c->owner_id, false, 0);
				break;
			case REFUND_OTHER_COUNTER:
				break;
		}
		wanted -= before;
		if (wanted > 0)
			c->back = wanted < c->remaining ? wanted : c->remaining;
	}
}

/*
 * Sets back of each code (given in ascending code order) the order still
 * uses: every one when the refund completes the order; else, from the
 * highest code down, each whose benefit's units still sold after this
 * refund are covered by the order's other codes of that benefit not given
 * back.
 */
void
refund_codes(RefundCode *codes, int ncodes, const RefundLine *lines, int nlines,
			 bool complete)
{
	for (int i = 0; i < ncodes; i++)
		codes[i].back = false;
	for (int i = ncodes - 1; i >= 0; i--)
	{
		RefundCode *x = &codes[i];
		int64_t		still_sold = 0;
		int64_t		cover = 0;

		if (!x->used_here)
			continue;
		if (complete)
		{
			x->back = true;
			continue;
		}
		for (int j = 0; j < nlines; j++)
			if (lines[j].has_benefit && lines[j].benefit_id == x->benefit_id)
				still_sold += lines[j].sold - lines[j].refunded - lines[j].now;
		for (int j = 0; j < ncodes; j++)
			if (codes[j].used_here && !codes[j].back && codes[j].benefit_id == x->benefit_id && j != i)
				cover += codes[j].has_units ? codes[j].units : REFUND_ALL_UNITS;
		x->back = cover >= still_sold;
	}
}
