/*-------------------------------------------------------------------------
 *
 * spi_util.h
 *		The SPI helpers every SPI file uses: one rule for keeping prepared
 *		statements (BenefitPlans), the typed getters of the columns of the
 *		last SPI result (col_*), int8[] statement parameters, the cached
 *		lookups the rule relies on, and subtransactions.
 *
 * The plan rule.  A file's statements are prepared on first use, kept for
 * the life of the backend (SPI_keepplan, a generic plan from the first
 * call), and made anew only when the type OID they were made for changes:
 * the OID of the extension's type their parameters use (benefit.code,
 * benefit.counter_kind), or of benefit.code for statements whose parameters
 * are all built-in types.  That OID changes when the extension is dropped
 * and created again in the same backend; between two such events the plan
 * cache itself re-plans a statement whose tables changed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_SPI_UTIL_H
#define BENEFIT_SPI_UTIL_H

/* after postgres.h */
#include "executor/spi.h"
#include "utils/timestamp.h"

/* The most statements one file keeps. */
#define BENEFIT_MAX_PLANS 16

/* The kept statements of one file and the type OID they were made for. */
typedef struct BenefitPlans
{
	Oid			made_for;		/* InvalidOid: not made (yet, or anew) */
	int			n;				/* plans[0..n) kept so far */
	SPIPlanPtr	plans[BENEFIT_MAX_PLANS];
} BenefitPlans;

/* Prepares the statements of a file through benefit_plans_keep. */
typedef void (*BenefitPlanMaker) (BenefitPlans *set, Oid made_for);

extern void benefit_plans_get(BenefitPlans *set, Oid made_for, BenefitPlanMaker make);
extern SPIPlanPtr benefit_plans_keep(BenefitPlans *set, const char *sql, int nargs, Oid *argtypes);

extern uint64 benefit_catalog_epoch(void);
extern Oid	benefit_code_type_oid(void);
extern Datum benefit_int8_array(const int64 *values, const bool *isnull, int n);
extern void benefit_require_slots(int nslots, const char *kind);
extern bool benefit_in_subxact(bool (*fn) (void *arg), void *arg, int rollback_on);

/*
 * The typed getters: column col (1-based) of row row of the last SPI result
 * (SPI_tuptable).  A NULL gives 0 (false, NULL for a string) and sets
 * *isnull where the getter has one.
 */

/* Column col of row row as a Datum, in SPI's memory when by reference. */
static inline Datum
col_datum(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* Column col of row row as a Datum copied out of SPI's memory (it outlives SPI_finish). */
static inline Datum
col_datum_copy(int row, int col, bool *isnull)
{
	Datum		d = col_datum(row, col, isnull);
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, col - 1);

	return *isnull ? (Datum) 0 : SPI_datumTransfer(d, att->attbyval, att->attlen);
}

/* Column col (bigint) of row row; 0 for NULL. */
static inline int64
col_int8(int row, int col, bool *isnull)
{
	Datum		d = col_datum(row, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/* Column col (integer) of row row; 0 for NULL. */
static inline int32
col_int4(int row, int col, bool *isnull)
{
	Datum		d = col_datum(row, col, isnull);

	return *isnull ? 0 : DatumGetInt32(d);
}

/* Column col (boolean) of row row; false for NULL. */
static inline bool
col_bool(int row, int col)
{
	bool		isnull;
	Datum		d = col_datum(row, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* Column col (timestamptz) of row row; 0 for NULL. */
static inline TimestampTz
col_timestamptz(int row, int col, bool *isnull)
{
	Datum		d = col_datum(row, col, isnull);

	return *isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * Column col of row row in its text form, allocated in cxt (NULL: the
 * current context, SPI's while connected); NULL for NULL.
 */
static inline char *
col_text(int row, int col, MemoryContext cxt)
{
	MemoryContext old;
	char	   *v;

	if (cxt == NULL)
		return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	old = MemoryContextSwitchTo(cxt);
	v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	MemoryContextSwitchTo(old);
	return v;
}

#endif							/* BENEFIT_SPI_UTIL_H */
