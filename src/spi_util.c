/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		The SPI helpers every SPI file uses (see spi_util.h): the one rule
 *		for keeping prepared statements, the cached catalog lookups it
 *		relies on, int8[] statement parameters, and subtransactions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "spi_util.h"

/*
 * Makes the statements of set by make, unless they were made for made_for:
 * the first time, and again (the old ones freed) when made_for changed.
 * A maker that fails half way leaves set "not made", with the plans it kept
 * recorded, so that the next call frees them and starts again.
 */
void
benefit_plans_get(BenefitPlans *set, Oid made_for, BenefitPlanMaker make)
{
	if (set->made_for == made_for && OidIsValid(made_for))
		return;
	for (int i = 0; i < set->n; i++)
		SPI_freeplan(set->plans[i]);
	set->n = 0;
	set->made_for = InvalidOid;
	make(set, made_for);
	set->made_for = made_for;
}

/*
 * Prepares a statement, keeps its plan for the life of the backend and
 * records it in set.  The plan is generic from the first call: these
 * statements look rows up by key, so a custom plan per call would only add
 * planning time.
 */
SPIPlanPtr
benefit_plans_keep(BenefitPlans *set, const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan;

	if (set->n >= BENEFIT_MAX_PLANS)
		elog(ERROR, "too many kept statements in one set");
	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	set->plans[set->n++] = plan;
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

/* Forgets the cached lookups (a syscache invalidation callback). */
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
 * Returns the OID of type benefit.code as installed now: the mark of the
 * installed extension the plan rule compares (spi_util.h).  The lookup (two
 * syscache probes) is cached until pg_type or pg_namespace changes.
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

/* An int8[] of n values (NULL where isnull[i]) for a statement parameter. */
Datum
benefit_int8_array(const int64 *values, const bool *isnull, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(values[i]);
	return PointerGetDatum(construct_md_array(d, (bool *) isnull, 1, dims, lbs, INT8OID,
											  sizeof(int64), true, TYPALIGN_DOUBLE));
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
 * The slots of a limit a call takes units on (kind: benefit_slot,
 * promo_slot, promo_budget) exist whenever the configuration sets the
 * limit, which the call read as of the latest commit (config.c).  Under
 * REPEATABLE READ or SERIALIZABLE the transaction's snapshot may predate
 * them (a benefit or promo code made live since): that is 40001, retry,
 * never "sold out".  Under READ COMMITTED the statement that found no slot
 * saw the latest commit: the limit was removed meanwhile.
 */
void
benefit_require_slots(int nslots, const char *kind)
{
	if (nslots == 0 && IsolationUsesXactSnapshot())
		ereport(ERROR,
				errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				errmsg("could not serialize access: the %s counters were made after this transaction's snapshot", kind),
				errhint("Retry the transaction: the limit was set since it began."));
}
