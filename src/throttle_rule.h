/*-------------------------------------------------------------------------
 *
 * throttle_rule.h
 *		The rule of throttling wrong code entries, in plain C (no PostgreSQL
 *		headers), so that it can be unit-tested on its own.
 *
 * A caller (a contact, or an application's client key) has a count of wrong
 * code entries and the time its window started.  The window starts at the
 * first wrong entry and lasts benefit.throttle_window; a valid code resets
 * nothing.  A caller whose count reached benefit.throttle_failures within a
 * window that has not ended is throttled.  Times are microseconds on any
 * fixed clock (PostgreSQL's TimestampTz).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_THROTTLE_RULE_H
#define BENEFIT_THROTTLE_RULE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ThrottleCount
{
	int64_t		window_start;	/* first wrong entry of the window */
	int32_t		failures;		/* wrong entries in the window, > 0 */
} ThrottleCount;

/* True when the window that started at c->window_start has ended at now. */
extern bool throttle_window_ended(const ThrottleCount *c, int64_t now, int64_t window);

/* True when c throttles its caller at now. */
extern bool throttle_is_blocked(const ThrottleCount *c, int64_t now, int64_t window,
								int32_t max_failures);

/*
 * Counts n > 0 more wrong entries at now: a count that is new (is_new) or
 * whose window has ended starts a window at now; the count saturates at
 * INT32_MAX.
 */
extern void throttle_add(ThrottleCount *c, bool is_new, int64_t now, int64_t window, int32_t n);

/*
 * Of two counts, true when a should be evicted before b when the table of
 * counts is full: an ended window first, then the oldest window.
 */
extern bool throttle_evict_before(const ThrottleCount *a, const ThrottleCount *b,
								  int64_t now, int64_t window);

#endif							/* BENEFIT_THROTTLE_RULE_H */
