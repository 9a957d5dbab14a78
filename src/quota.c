/*-------------------------------------------------------------------------
 *
 * quota.c
 *		Quota enforcement: benefit_internal.take_slots and take_limited,
 *		which reserve units for an order on benefit.counter (README
 *		"Quotas without a hot row").
 *
 * A benefit's total quota (and a promo code's total limit) is split into 16
 * slots.  take_slots tries one random slot first, with FOR UPDATE SKIP
 * LOCKED inside a subtransaction that is rolled back when the try fails: a
 * row that SKIP LOCKED rechecks after another buyer filled it stays locked
 * although it is not returned, and such a lock must not be held while the
 * walk below waits.  Then it walks every slot in key order, waiting for each
 * lock, so that a slot another buyer holds is judged once that buyer is
 * done (skipping it would report "sold out" while units are left).  Every
 * runtime call locks counters in (kind, owner, key) order after order rows
 * and single-use codes, so the walk cannot deadlock.  Per-performance and
 * per-contact limits are one row each, taken by take_limited with INSERT
 * ... ON CONFLICT DO UPDATE ... WHERE the limit leaves room.  Every unit
 * taken is recorded in benefit.order_hold_counter for confirm and release.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "spi_util.h"

#define QUOTA_SLOTS 16

static BenefitPlans plans;
static SPIPlanPtr plan_try;
static SPIPlanPtr plan_take;
static SPIPlanPtr plan_record;
static SPIPlanPtr plan_walk;
static SPIPlanPtr plan_walk_one;
static SPIPlanPtr plan_limited;

/*
 * Prepares the statements of this file for kind_type, the type
 * benefit.counter_kind (the plan rule of spi_util.h).
 */
static void
make_plans(BenefitPlans *set, Oid kind_type)
{
	Oid			t_try[4] = {kind_type, INT8OID, INT8OID, INT4OID};
	Oid			t_record[5] = {TEXTOID, kind_type, INT8OID, INT8OID, INT4OID};
	Oid			t_walk[2] = {kind_type, INT8OID};
	Oid			t_limited[5] = {kind_type, INT8OID, INT8OID, INT4OID, INT4OID};

	plan_try = benefit_plans_keep(set,
		"SELECT 1 FROM benefit.counter c "
		" WHERE c.kind = $1 AND c.owner_id = $2 AND c.key = $3 "
		"   AND (c.cap IS NULL OR c.cap - c.held - c.used >= $4) "
		"   FOR UPDATE SKIP LOCKED",
		4, t_try);
	plan_take = benefit_plans_keep(set,
		"UPDATE benefit.counter c SET held = c.held + $4 "
		" WHERE c.kind = $1 AND c.owner_id = $2 AND c.key = $3",
		4, t_try);
	plan_record = benefit_plans_keep(set,
		"INSERT INTO benefit.order_hold_counter AS o (order_ref, kind, owner_id, key, units) "
		"VALUES ($1, $2, $3, $4, $5) "
		"ON CONFLICT (order_ref, kind, owner_id, key) DO UPDATE SET units = o.units + EXCLUDED.units",
		5, t_record);
	plan_walk = benefit_plans_keep(set,
		"SELECT c.key FROM benefit.counter c WHERE c.kind = $1 AND c.owner_id = $2 ORDER BY c.key",
		2, t_walk);
	plan_walk_one = benefit_plans_keep(set,
		"SELECT c.cap, c.held, c.used FROM benefit.counter c "
		" WHERE c.kind = $1 AND c.owner_id = $2 AND c.key = $3 FOR UPDATE",
		3, t_try);
	plan_limited = benefit_plans_keep(set,
		"INSERT INTO benefit.counter AS c (kind, owner_id, key, held) VALUES ($1, $2, $3, $4) "
		"ON CONFLICT (kind, owner_id, key) DO UPDATE SET held = c.held + EXCLUDED.held "
		" WHERE c.held + c.used + EXCLUDED.held <= $5 "
		"RETURNING 1",
		5, t_limited);
}

/* Runs a kept write statement; elog on anything but the expected result. */
static void
run(SPIPlanPtr plan, Datum *args, int expected, const char *what)
{
	int			ret = SPI_execute_plan(plan, args, NULL, false, 0);

	if (ret != expected)
		elog(ERROR, "%s failed: %s", what, SPI_result_code_string(ret));
}

/* Records units taken on a counter for an order. */
static void
record_units(Datum order_ref, Datum kind, Datum owner, int64 key, int32 units)
{
	Datum		args[5];

	args[0] = order_ref;
	args[1] = kind;
	args[2] = owner;
	args[3] = Int64GetDatum(key);
	args[4] = Int32GetDatum(units);
	run(plan_record, args, SPI_OK_INSERT, "recording the units held");
}

/* Locks the slot in args if it has room, without waiting; false when it does not. */
static bool
lock_slot(void *arg)
{
	int			ret = SPI_execute_plan(plan_try, (Datum *) arg, NULL, false, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "trying a quota slot failed: %s", SPI_result_code_string(ret));
	return SPI_processed == 1;
}

/*
 * Prepares a take: units must be positive; connects SPI and makes the plans
 * for the counter_kind type of argument 1.
 */
static void
begin_take(FunctionCallInfo fcinfo, int32 units)
{
	if (units <= 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("units must be positive, not %d", units));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	benefit_plans_get(&plans, get_fn_expr_argtype(fcinfo->flinfo, 1), make_plans);
}

PG_FUNCTION_INFO_V1(benefit_take_slots);

/*
 * take_slots(order_ref, kind, owner_id, units): reserves units on the 16
 * slots of a total quota or limit for an order; false when it has no room.
 */
Datum
benefit_take_slots(PG_FUNCTION_ARGS)
{
	Datum		order_ref = PG_GETARG_DATUM(0);
	Datum		kind = PG_GETARG_DATUM(1);
	Datum		owner = PG_GETARG_DATUM(2);
	int32		units = PG_GETARG_INT32(3);
	int32		need = units;
	Datum		args[4];
	int64		keys[QUOTA_SLOTS];
	int64		room[QUOTA_SLOTS];		/* -1: no limit */
	int			nslots;
	bool		isnull;

	begin_take(fcinfo, units);

	/* a random slot with room whose lock is free: most calls end here */
	args[0] = kind;
	args[1] = owner;
	args[2] = Int64GetDatum((int64) pg_prng_uint64_range(&pg_global_prng_state, 0, QUOTA_SLOTS - 1));
	args[3] = Int32GetDatum(units);
	if (benefit_in_subxact(lock_slot, args, 0))
	{
		run(plan_take, args, SPI_OK_UPDATE, "taking units");
		record_units(order_ref, kind, owner, DatumGetInt64(args[2]), units);
		SPI_finish();
		PG_RETURN_BOOL(true);
	}

	/*
	 * The slots in key order, waiting for each lock, taking their room as
	 * they come, and no further once the units are taken: a walk that locked
	 * every slot first held all 16 until its transaction ended, and every
	 * other buyer of the benefit queued behind it.
	 */
	args[0] = kind;
	args[1] = owner;
	if (SPI_execute_plan(plan_walk, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "walking the quota slots failed");
	nslots = (int) Min(SPI_processed, QUOTA_SLOTS);
	if (nslots == 0)
		benefit_require_slots(0, DatumGetCString(DirectFunctionCall1(enum_out, kind)));
	for (int i = 0; i < nslots; i++)
		keys[i] = col_int8(i, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < nslots && need > 0; i++)
	{
		int32		take;
		bool		capnull;

		args[0] = kind;
		args[1] = owner;
		args[2] = Int64GetDatum(keys[i]);
		if (SPI_execute_plan(plan_walk_one, args, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "locking a quota slot failed");
		{
			int64		cap = col_int4(0, 1, &capnull);
			int64		held = col_int4(0, 2, &isnull);
			int64		used = col_int4(0, 3, &isnull);

			room[i] = capnull ? -1 : Max(cap - held - used, 0);
		}
		SPI_freetuptable(SPI_tuptable);
		take = room[i] < 0 ? need : (int32) Min((int64) need, room[i]);
		if (take <= 0)
			continue;
		args[0] = kind;
		args[1] = owner;
		args[2] = Int64GetDatum(keys[i]);
		args[3] = Int32GetDatum(take);
		run(plan_take, args, SPI_OK_UPDATE, "taking units");
		record_units(order_ref, kind, owner, keys[i], take);
		need -= take;
	}
	SPI_finish();
	PG_RETURN_BOOL(need == 0);
}

PG_FUNCTION_INFO_V1(benefit_take_limited);

/*
 * take_limited(order_ref, kind, owner_id, key, units, limit): reserves units
 * on a per-performance or per-contact counter if the limit leaves room.
 */
Datum
benefit_take_limited(PG_FUNCTION_ARGS)
{
	Datum		order_ref = PG_GETARG_DATUM(0);
	Datum		kind = PG_GETARG_DATUM(1);
	Datum		owner = PG_GETARG_DATUM(2);
	int64		key = PG_GETARG_INT64(3);
	int32		units = PG_GETARG_INT32(4);
	int32		limit = PG_GETARG_INT32(5);
	Datum		args[5];
	int			ret;

	if (units > 0 && units > limit)
		PG_RETURN_BOOL(false);
	begin_take(fcinfo, units);
	args[0] = kind;
	args[1] = owner;
	args[2] = Int64GetDatum(key);
	args[3] = Int32GetDatum(units);
	args[4] = Int32GetDatum(limit);
	ret = SPI_execute_plan(plan_limited, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "taking units failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		SPI_finish();
		PG_RETURN_BOOL(false);
	}
	record_units(order_ref, kind, owner, key, units);
	SPI_finish();
	PG_RETURN_BOOL(true);
}
