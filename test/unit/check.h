/*-------------------------------------------------------------------------
 *
 * check.h
 *		The TAP-like reporting the standalone unit tests share: check()
 *		prints one line per test, check_summary() the totals and the exit
 *		status.  Included once by each test program.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_UNIT_CHECK_H
#define BENEFIT_UNIT_CHECK_H

#include <stdbool.h>
#include <stdio.h>

static int	ntests = 0;
static int	nfailed = 0;

/* Records and prints the result of one test. */
static void
check(bool cond, const char *name)
{
	ntests++;
	if (cond)
		printf("ok %d - %s\n", ntests, name);
	else
	{
		nfailed++;
		printf("not ok %d - %s\n", ntests, name);
	}
}

/* Prints the totals of the program and returns its exit status. */
static int
check_summary(const char *program)
{
	printf("1..%d\n", ntests);
	printf("# %s: %d passed, %d failed\n", program, ntests - nfailed, nfailed);
	return nfailed == 0 ? 0 : 1;
}

#endif							/* BENEFIT_UNIT_CHECK_H */
