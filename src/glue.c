/*-------------------------------------------------------------------------
 *
 * glue.c
 *		Helpers shared by the SPI glue files: kept plans and type lookups.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/resowner.h"
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
 * Catalog lookups cached for the life of the backend, until the catalogs
 * they come from change: the OID of type benefit.code here, and whatever a
 * caller keeps against benefit_catalog_epoch().  Any change to pg_type,
 * pg_namespace or pg_enum (in any session, committed or rolled back, or a
 * cache reset) forgets them all; that is rare next to the calls it spares.
 */
static Oid	code_type_oid = InvalidOid;
static uint64 catalog_epoch = 1;

static void
catalog_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	code_type_oid = InvalidOid;
	catalog_epoch++;
}

/* Registers catalog_changed once per backend; before any lookup it guards. */
static void
watch_catalogs(void)
{
	static bool registered = false;

	if (registered)
		return;
	CacheRegisterSyscacheCallback(TYPEOID, catalog_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, catalog_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, catalog_changed, (Datum) 0);
	registered = true;
}

/*
 * Returns a number that changes whenever lookups cached by the caller may
 * be stale: a caller that saved it with its lookups makes them anew when it
 * differs.
 */
uint64
benefit_catalog_epoch(void)
{
	watch_catalogs();
	return catalog_epoch;
}

/*
 * Returns the OID of type benefit.code as installed now; callers compare it
 * with the one their kept plans were made for, so that plans are made anew
 * after DROP EXTENSION / CREATE EXTENSION in the same backend.  The lookup
 * (two syscache probes) is cached until pg_type or pg_namespace changes.
 */
Oid
benefit_code_type_oid(void)
{
	Oid			nsp;
	Oid			typ;

	watch_catalogs();
	if (OidIsValid(code_type_oid))
		return code_type_oid;
	nsp = get_namespace_oid("benefit", false);
	typ = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						  CStringGetDatum("code"), ObjectIdGetDatum(nsp));
	if (!OidIsValid(typ))
		elog(ERROR, "type benefit.code does not exist");
	code_type_oid = typ;
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

/*
 * Runs fn(arg) inside an internal subtransaction.  Its work is kept when fn
 * returns true and rolled back, row locks included, when it returns false.
 * An error whose SQLSTATE is rollback_on (0: none) is rolled back too and
 * makes the call return false; any other error is rethrown.  fn runs SPI
 * statements of the caller's SPI connection.
 */
bool
benefit_in_subxact(bool (*fn) (void *arg), void *arg, int rollback_on)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool keep = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		keep = fn(arg);
		if (keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (rollback_on == 0 || edata->sqlerrcode != rollback_on)
			ReThrowError(edata);
		FreeErrorData(edata);
		keep = false;
	}
	PG_END_TRY();
	return keep;
}

/*
 * Refuses, with one error for every runtime call that writes, to run in a
 * read-only transaction or on a hot standby (25006): checked before any
 * work, so that nothing is half done.
 */
void
benefit_require_writable(const char *call)
{
	if (!XactReadOnly)
		return;
	ereport(ERROR,
			errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
			errmsg("%s writes and cannot run in a read-only transaction", call),
			RecoveryInProgress()
			? errdetail("This server is a hot standby.")
			: errdetail("The transaction is read-only (default_transaction_read_only or SET TRANSACTION READ ONLY)."),
			errhint("Call it on the primary server, in a read-write transaction."));
}

PG_FUNCTION_INFO_V1(benefit_require_writable_sql);

/* SQL benefit.require_writable(call): the same check for the SQL and PL/pgSQL functions. */
Datum
benefit_require_writable_sql(PG_FUNCTION_ARGS)
{
	benefit_require_writable(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
