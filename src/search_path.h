/*-------------------------------------------------------------------------
 *
 * search_path.h
 *		pg_catalog as the only schema searched while a C entry point runs
 *		its statements (search_path.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_SEARCH_PATH_H
#define BENEFIT_SEARCH_PATH_H

/* after postgres.h */

extern void benefit_push_search_path(void);
extern void benefit_pop_search_path(void);

#endif							/* BENEFIT_SEARCH_PATH_H */
