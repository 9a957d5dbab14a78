/*-------------------------------------------------------------------------
 *
 * internal_sql.h
 *		The internal SQL functions (granted to no role) that the C code
 *		calls, by name, and the schema that holds them: one line each, so
 *		that moving them changes one line here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_INTERNAL_SQL_H
#define BENEFIT_INTERNAL_SQL_H

/*
 * The schema of the internal functions: benefit_internal from 0.3.0 on; a
 * database not yet updated keeps them in benefit, and the library serves it
 * too (internal_schema() in pricing.c says which).
 */
#define BENEFIT_INTERNAL_SCHEMA "benefit_internal"
#define BENEFIT_PUBLIC_SCHEMA "benefit"

/* who may use which benefit (pricing.c), in the internal schema */
#define BENEFIT_FN_ELIGIBILITY "eligibility"

#endif							/* BENEFIT_INTERNAL_SQL_H */
