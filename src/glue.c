/*-------------------------------------------------------------------------
 *
 * glue.c
 *		Helpers shared by the SPI glue files: kept plans and type lookups.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "utils/syscache.h"

#include "glue.h"

/*
 * Prepares a statement and keeps its plan for the life of the backend.
 * The plan is generic from the first call: these statements look rows up by
 * key, so a custom plan per call would only add planning time.
 */
SPIPlanPtr
benefit_keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * Returns the OID of type benefit.code as installed now; callers compare it
 * with the one their kept plans were made for, so that plans are made anew
 * after DROP EXTENSION / CREATE EXTENSION in the same backend.
 */
Oid
benefit_code_type_oid(void)
{
	Oid			nsp = get_namespace_oid("benefit", false);
	Oid			typ = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  CStringGetDatum("code"), ObjectIdGetDatum(nsp));

	if (!OidIsValid(typ))
		elog(ERROR, "type benefit.code does not exist");
	return typ;
}

/*
 * Makes pg_catalog the only schema searched until benefit_pop_search_path:
 * the statements of a SECURITY DEFINER C function then resolve operators
 * and functions the same way whatever the caller's search_path, without
 * the cost of a SET search_path clause (a GUC change on every call).
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
