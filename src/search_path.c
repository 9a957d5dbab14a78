/*-------------------------------------------------------------------------
 *
 * search_path.c
 *		The search_path pinning of the C entry points: pg_catalog as the
 *		only schema searched while their statements run, whatever the
 *		caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "nodes/pg_list.h"

#include "search_path.h"

/*
 * Makes pg_catalog the only schema searched until benefit_pop_search_path:
 * the statements of a SECURITY DEFINER C function then resolve operators
 * and functions the same way whatever the caller's search_path, without
 * the cost of a SET search_path clause (a GUC change on every call).  An
 * error unwinds the pushed path with the (sub)transaction.
 */
void
benefit_push_search_path(void)
{
	OverrideSearchPath path;

	path.schemas = NIL;
	path.addCatalog = true;
	path.addTemp = false;
	path.generation = 0;
	PushOverrideSearchPath(&path);
}

/* Undoes benefit_push_search_path. */
void
benefit_pop_search_path(void)
{
	PopOverrideSearchPath();
}
