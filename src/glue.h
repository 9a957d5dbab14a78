/*-------------------------------------------------------------------------
 *
 * glue.h
 *		Helpers shared by the SPI glue files: kept plans, type lookups,
 *		subtransactions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_GLUE_H
#define BENEFIT_GLUE_H

#include "executor/spi.h"

extern SPIPlanPtr benefit_keep_plan(const char *sql, int nargs, Oid *argtypes);
extern uint64 benefit_catalog_epoch(void);
extern Oid	benefit_code_type_oid(void);
extern void benefit_push_search_path(void);
extern void benefit_pop_search_path(void);
extern void benefit_require_writable(const char *call);
extern bool benefit_in_subxact(bool (*fn) (void *arg), void *arg, int rollback_on);

#endif							/* BENEFIT_GLUE_H */
