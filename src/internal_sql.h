/*-------------------------------------------------------------------------
 *
 * internal_sql.h
 *		The internal SQL functions (granted to no role) that the C code
 *		calls, by schema-qualified name: one line each, so that moving them
 *		to another schema changes one line here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_INTERNAL_SQL_H
#define BENEFIT_INTERNAL_SQL_H

/* who may use which benefit (pricing.c) */
#define BENEFIT_FN_ELIGIBILITY "benefit.eligibility"

#endif							/* BENEFIT_INTERNAL_SQL_H */
