/*-------------------------------------------------------------------------
 *
 * test_throttle_rule.c
 *		Standalone unit tests of src/throttle_rule.c: when a window ends,
 *		when a caller is throttled, how wrong entries are counted and which
 *		count is evicted first from a full table.
 *
 * Prints one TAP-like line per test and a summary, and exits non-zero if
 * any test failed.  Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "throttle_rule.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SEC INT64_C(1000000)
#define WINDOW (900 * SEC)


int
main(void)
{
	ThrottleCount c = {0, 0};
	ThrottleCount old = {100 * SEC, 3};
	ThrottleCount young = {200 * SEC, 3};
	int64_t		t0 = 1000 * SEC;
	int			i;

	/* a new count starts its window at the first wrong entry */
	throttle_add(&c, true, t0, WINDOW, 1);
	check(c.window_start == t0 && c.failures == 1, "a new count starts a window with its first entry");
	throttle_add(&c, false, t0 + SEC, WINDOW, 2);
	check(c.window_start == t0 && c.failures == 3, "entries within the window add up");
	throttle_add(&c, false, t0 + 2 * SEC, WINDOW, 0);
	check(c.failures == 3, "zero entries change nothing");
	throttle_add(&c, false, t0 + 2 * SEC, WINDOW, -5);
	check(c.failures == 3, "a negative number of entries changes nothing");

	/* throttled from the threshold on, until the window ends */
	check(!throttle_is_blocked(&c, t0 + SEC, WINDOW, 4), "below the threshold: not throttled");
	check(throttle_is_blocked(&c, t0 + SEC, WINDOW, 3), "at the threshold: throttled");
	check(throttle_is_blocked(&c, t0 + WINDOW - 1, WINDOW, 3), "throttled until the last microsecond of the window");
	check(!throttle_is_blocked(&c, t0 + WINDOW, WINDOW, 3), "no longer throttled once the window has ended");
	check(throttle_window_ended(&c, t0 + WINDOW, WINDOW), "the window ends window after its first entry");
	check(!throttle_window_ended(&c, t0 + WINDOW - 1, WINDOW), "and not before");

	/* a window that ended starts again; the old entries are forgotten */
	throttle_add(&c, false, t0 + WINDOW, WINDOW, 1);
	check(c.window_start == t0 + WINDOW && c.failures == 1, "an entry after the window starts a new one");

	/* a valid code resets nothing: only wrong entries are counted, and the count saturates */
	c.failures = INT32_MAX - 1;
	throttle_add(&c, false, t0 + WINDOW + SEC, WINDOW, 5);
	check(c.failures == INT32_MAX, "the count saturates instead of overflowing");
	for (i = 0; i < 3; i++)
		throttle_add(&c, false, t0 + WINDOW + SEC, WINDOW, INT32_MAX);
	check(c.failures == INT32_MAX, "and stays saturated");

	/* eviction from a full table: ended windows first, then the oldest */
	check(throttle_evict_before(&old, &young, 2000 * SEC, WINDOW), "two ended windows: the older first");
	check(!throttle_evict_before(&young, &old, 2000 * SEC, WINDOW), "two ended windows: not the younger");
	check(throttle_evict_before(&old, &young, 250 * SEC, WINDOW), "two live windows: the older first");
	check(!throttle_evict_before(&young, &old, 250 * SEC, WINDOW), "not the younger");
	{
		ThrottleCount ended = {0, 50};
		ThrottleCount live = {1000 * SEC - 10 * SEC, 1};

		check(throttle_evict_before(&ended, &live, t0, WINDOW), "an ended window goes before a live one");
		check(!throttle_evict_before(&live, &ended, t0, WINDOW), "a live one after an ended one");
	}

	return check_summary("test_throttle_rule");
}
