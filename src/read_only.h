/*-------------------------------------------------------------------------
 *
 * read_only.h
 *		The read-only guard of the runtime calls that write (read_only.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_READ_ONLY_H
#define BENEFIT_READ_ONLY_H

/* after postgres.h */

extern void benefit_require_writable(const char *call);

#endif							/* BENEFIT_READ_ONLY_H */
