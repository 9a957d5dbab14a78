/*-------------------------------------------------------------------------
 *
 * reason.h
 *		benefit.reason values from their labels, cached (reason.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_REASON_H
#define BENEFIT_REASON_H

/* after postgres.h */

extern Datum benefit_reason_datum(Oid reason_type, const char *label);

#endif							/* BENEFIT_REASON_H */
