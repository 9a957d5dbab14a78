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

/* benefit.throttle_failures and benefit.throttle_window (seconds), defined in benefit.c */
extern int	benefit_throttle_failures;
extern int	benefit_throttle_window;

extern SPIPlanPtr benefit_keep_plan(const char *sql, int nargs, Oid *argtypes);
extern uint64 benefit_catalog_epoch(void);
extern Oid	benefit_code_type_oid(void);
extern void benefit_push_search_path(void);
extern void benefit_pop_search_path(void);
extern bool benefit_in_subxact(bool (*fn) (void *arg), void *arg, int rollback_on);

#endif							/* BENEFIT_GLUE_H */
