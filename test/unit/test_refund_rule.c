/*-------------------------------------------------------------------------
 *
 * test_refund_rule.c
 *		Standalone unit tests of src/refund_rule.c: the units a refund
 *		leaves, the units it gives back on each counter row (all of them
 *		when it completes the order; else by benefit, performance and
 *		contact, greedily over a benefit's slots by key), and the codes it
 *		gives back (from the highest down, once the others cover what is
 *		still sold).
 *
 * Prints one TAP-like line per test and a summary, and exits non-zero if
 * any test failed.  Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "refund_rule.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A line of benefit b (0: none) on performance p (0: none). */
static RefundLine
line(int32_t no, int64_t sold, int64_t refunded, int64_t now, int64_t b, int64_t p)
{
	RefundLine	l;

	memset(&l, 0, sizeof(l));
	l.line_no = no;
	l.sold = sold;
	l.refunded = refunded;
	l.now = now;
	l.has_benefit = b != 0;
	l.benefit_id = b;
	l.has_performance = p != 0;
	l.performance_id = p;
	return l;
}

static RefundCounter
counter(RefundCounterKind kind, int64_t owner, int64_t key, int64_t remaining)
{
	RefundCounter c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.owner_id = owner;
	c.key = key;
	c.remaining = remaining;
	c.back = -1;
	return c;
}

static RefundCode
code(int64_t b, int64_t units, bool used_here)
{
	RefundCode	c;

	memset(&c, 0, sizeof(c));
	c.benefit_id = b;
	c.has_units = units != 0;
	c.units = units;
	c.used_here = used_here;
	c.back = true;
	return c;
}

static void
test_left(void)
{
	RefundLine	l[2] = {line(1, 3, 1, 1, 7, 0), line(2, 1, 0, 0, 0, 0)};

	check(refund_units_left(l, 2) == 2, "units left: sold less refunded before and now");
	l[0].now = 2;
	l[1].now = 1;
	check(refund_units_left(l, 2) == 0, "nothing left: the refund completes the order");
	check(refund_units_left(NULL, 0) == 0, "a codes order has no lines: nothing left");
}

static void
test_counters_partial(void)
{
	/* benefit 7: slots 0, 3 and 9 of the order, performance 50, contact 80; promo 2 */
	RefundLine	l[2] = {line(1, 4, 0, 3, 7, 50), line(2, 1, 0, 1, 0, 0)};
	RefundCounter c[7] = {
		counter(REFUND_BENEFIT_SLOT, 7, 0, 2),
		counter(REFUND_BENEFIT_SLOT, 7, 3, 0),
		counter(REFUND_BENEFIT_SLOT, 7, 9, 2),
		counter(REFUND_BENEFIT_PERFORMANCE, 7, 50, 4),
		counter(REFUND_BENEFIT_CONTACT, 7, 80, 4),
		counter(REFUND_OTHER_COUNTER, 2, 1, 1),
		counter(REFUND_BENEFIT_SLOT, 8, 0, 2),
	};

	refund_counters(c, 7, l, 2, true, 80, false);
	check(c[0].back == 2 && c[1].back == 0 && c[2].back == 1,
		  "three units over the slots greedily by key, an empty slot skipped");
	check(c[3].back == 3, "three units on the performance");
	check(c[4].back == 3, "three units on the contact's counter");
	check(c[5].back == 0, "a partial refund leaves the promo use");
	check(c[6].back == 0, "another benefit's slots are untouched");

	refund_counters(c, 7, l, 2, true, 81, false);
	check(c[4].back == 0, "another contact's counter row is not the order's contact's");
	refund_counters(c, 7, l, 2, false, 0, false);
	check(c[4].back == 0, "an anonymous order gives nothing back on contact rows");

	/* the slots in another order: the same result */
	{
		RefundCounter d[3] = {
			counter(REFUND_BENEFIT_SLOT, 7, 9, 2),
			counter(REFUND_BENEFIT_SLOT, 7, 0, 2),
			counter(REFUND_BENEFIT_SLOT, 7, 3, 0),
		};

		refund_counters(d, 3, l, 2, false, 0, false);
		check(d[1].back == 2 && d[2].back == 0 && d[0].back == 1, "the slots by key whatever their order");
	}

	/* the performance row holds less than asked (earlier refunds): capped */
	c[3].remaining = 1;
	refund_counters(c, 7, l, 2, true, 80, false);
	check(c[3].back == 1, "never more than a row still holds");

	/* a line without performance gives nothing back on a performance row */
	l[0].has_performance = false;
	refund_counters(c, 7, l, 2, true, 80, false);
	check(c[3].back == 0, "a line without performance: no performance row");
}

static void
test_counters_complete(void)
{
	RefundLine	l[1] = {line(1, 2, 1, 1, 7, 0)};
	RefundCounter c[3] = {
		counter(REFUND_BENEFIT_SLOT, 7, 0, 1),
		counter(REFUND_OTHER_COUNTER, 2, 1, 1),
		counter(REFUND_BENEFIT_SLOT, 7, 4, 0),
	};

	refund_counters(c, 3, l, 1, false, 0, true);
	check(c[0].back == 1 && c[1].back == 1, "completing: everything still held, the promo use too");
	check(c[2].back == 0, "completing: a row given back already stays so");
}

static void
test_codes(void)
{
	/* benefit 7: two seats, three codes of one unit; one used elsewhere */
	RefundLine	l[1] = {line(1, 3, 0, 1, 7, 0)};
	RefundCode	c[4] = {code(7, 1, true), code(7, 1, true), code(7, 1, true), code(7, 1, false)};

	refund_codes(c, 4, l, 1, false);
	check(!c[0].back && !c[1].back && c[2].back && !c[3].back,
		  "one of three seats refunded: the highest code comes back");
	l[0].now = 2;
	refund_codes(c, 4, l, 1, false);
	check(!c[0].back && c[1].back && c[2].back && !c[3].back, "two: the two highest");
	l[0].refunded = 1;
	l[0].now = 1;
	refund_codes(c, 4, l, 1, false);
	check(!c[0].back && c[1].back && c[2].back, "the units refunded before count too");

	/* a code without units covers every unit: it comes back with the last */
	{
		RefundLine	m[1] = {line(1, 3, 0, 2, 7, 0)};
		RefundCode	d[2] = {code(7, 0, true), code(7, 1, true)};

		refund_codes(d, 2, m, 1, false);
		check(!d[0].back && d[1].back, "a code of one unit comes back, the one without units stays");
		m[0].now = 3;
		refund_codes(d, 2, m, 1, false);
		check(d[0].back && d[1].back, "nothing of its benefit sold: both come back");
	}

	/* codes of another benefit are not touched by this benefit's refund */
	{
		RefundLine	m[2] = {line(1, 1, 0, 1, 7, 0), line(2, 1, 0, 0, 8, 0)};
		RefundCode	d[2] = {code(7, 1, true), code(8, 1, true)};

		refund_codes(d, 2, m, 2, false);
		check(d[0].back && !d[1].back, "only the refunded benefit's code");
		refund_codes(d, 2, m, 2, true);
		check(d[0].back && d[1].back, "completing: every code the order uses");
	}
	refund_codes(c, 4, l, 1, true);
	check(!c[3].back, "completing: not a code the order does not use");
}

int
main(void)
{
	test_left();
	test_counters_partial();
	test_counters_complete();
	test_codes();
	return check_summary("test_refund_rule");
}
