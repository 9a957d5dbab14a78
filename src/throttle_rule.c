/*-------------------------------------------------------------------------
 *
 * throttle_rule.c
 *		The rule of throttling wrong code entries (see throttle_rule.h).
 *		Plain C99, no PostgreSQL headers: unit-tested by test/unit.
 *
 *-------------------------------------------------------------------------
 */
#include "throttle_rule.h"

/* True when the window that started at c->window_start has ended at now. */
bool
throttle_window_ended(const ThrottleCount *c, int64_t now, int64_t window)
{
	/* now - window cannot overflow for any clock reading PostgreSQL gives */
	return c->window_start <= now - window;
}

/* True when c throttles its caller at now. */
bool
throttle_is_blocked(const ThrottleCount *c, int64_t now, int64_t window, int32_t max_failures)
{
	return c->failures >= max_failures && !throttle_window_ended(c, now, window);
}

/* Counts n more wrong entries at now, starting a window when needed. */
void
throttle_add(ThrottleCount *c, bool is_new, int64_t now, int64_t window, int32_t n)
{
	if (n <= 0)
		return;
	if (is_new || throttle_window_ended(c, now, window))
	{
		c->window_start = now;
		c->failures = n;
	}
	else if (c->failures > INT32_MAX - n)
		c->failures = INT32_MAX;
	else
		c->failures += n;
}

/* True when a should be evicted before b: an ended window first, then the oldest. */
bool
throttle_evict_before(const ThrottleCount *a, const ThrottleCount *b, int64_t now, int64_t window)
{
	bool		a_ended = throttle_window_ended(a, now, window);
	bool		b_ended = throttle_window_ended(b, now, window);

	if (a_ended != b_ended)
		return a_ended;
	return a->window_start < b->window_start;
}
