/*-------------------------------------------------------------------------
 *
 * order.c
 *		The order calls of the ledger in C: benefit.confirm, benefit.release
 *		and benefit.expire_holds, and the one way an order is closed
 *		(settle_orders) that they share.
 *
 * Every call takes its row locks in the common order (README "Lock
 * order"): order rows, then single-use codes by code, then counter rows by
 * kind, owner and key.  A statement that locks several rows of one kind
 * sorts them first (SELECT ... ORDER BY ... FOR UPDATE locks in the order
 * of the sort); an UPDATE that joins its rows in no stated order runs only
 * after those rows are locked, or touches one row.
 *
 * The common case of confirm and release, a basket order without codes, is
 * two statements: the order row read and locked with what decides the path
 * (has it codes, on how many counter rows did it reserve), then its
 * counters moved and the order closed in one statement (with several
 * counter rows, one more statement locks them in order first).  Orders with
 * codes take two more: their codes locked in code order (confirm checks
 * them there), then used or given back with their history rows.
 *
 * Under REPEATABLE READ and SERIALIZABLE, locking or updating a row changed
 * since the snapshot fails with a clean 40001, as the statements of the
 * PL/pgSQL these calls replace did.  All statements are prepared once per
 * backend and kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "read_only.h"
#include "reason.h"
#include "search_path.h"
#include "spi_util.h"

static BenefitPlans plans;
static SPIPlanPtr plan_order;
static SPIPlanPtr plan_lock_codes;
static SPIPlanPtr plan_lock_counters;
static SPIPlanPtr plan_settle_one;
static SPIPlanPtr plan_settle_many;
static SPIPlanPtr plan_use_codes;
static SPIPlanPtr plan_release_codes;
static SPIPlanPtr plan_expire_rc;
static SPIPlanPtr plan_due;
static SPIPlanPtr plan_lock_due;
static SPIPlanPtr plan_expire_rows;

/* Prepares the statements of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_text[1] = {TEXTOID};
	Oid			t_arr[1] = {TEXTARRAYOID};
	Oid			t_settle_one[4] = {TEXTOID, BOOLOID, TEXTOID, TIMESTAMPTZOID};
	Oid			t_settle_many[2] = {TEXTARRAYOID, BOOLOID};
	Oid			t_use[4] = {TEXTOID, TIMESTAMPTZOID, INT8OID, TEXTOID};
	Oid			t_release[2] = {TEXTARRAYOID, TEXTOID};
	Oid			t_now[1] = {TIMESTAMPTZOID};
	Oid			t_lock_due[2] = {TEXTOID, TIMESTAMPTZOID};
	Oid			t_expire_rows[2] = {TEXTARRAYOID, TIMESTAMPTZOID};

	/* the order row, locked, with what decides the path */
	plan_order = benefit_plans_keep(set,
		"SELECT h.state::pg_catalog.text, h.held_until, h.contact_id, h.channel, "
		"       EXISTS (SELECT 1 FROM benefit.order_code oc WHERE oc.order_ref = h.order_ref), "
		"       (SELECT pg_catalog.count(*) FROM benefit.order_hold_counter k WHERE k.order_ref = h.order_ref) "
		"  FROM benefit.order_hold h WHERE h.order_ref = $1 FOR UPDATE OF h",
		1, t_text);

	/* the codes of the orders, locked in code order (and read: confirm checks them) */
	plan_lock_codes = benefit_plans_keep(set,
		"SELECT c.state::pg_catalog.text, c.hold_order, o.order_ref "
		"  FROM benefit.order_code o "
		"  JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code "
		" WHERE o.order_ref OPERATOR(pg_catalog.=) ANY ($1) "
		" ORDER BY c.code FOR UPDATE OF c",
		1, t_arr);

	/* the counter rows of the orders, locked in (kind, owner, key) order */
	plan_lock_counters = benefit_plans_keep(set,
		"SELECT 1 FROM benefit.counter c "
		"  JOIN benefit.order_hold_counter k "
		"    ON c.kind = k.kind AND c.owner_id = k.owner_id AND c.key = k.key "
		" WHERE k.order_ref OPERATOR(pg_catalog.=) ANY ($1) "
		" ORDER BY c.kind, c.owner_id, c.key FOR UPDATE OF c",
		1, t_arr);

	/*
	 * One order's units moved (confirm: held to used) or given back, then
	 * the order closed: the counters first (the CTE is read before the
	 * order row is updated), one row, or rows locked in order before
	 */
	plan_settle_one = benefit_plans_keep(set,
		"WITH s AS ("
		"    UPDATE benefit.counter c "
		"       SET held = c.held - k.units, used = c.used + CASE WHEN $2 THEN k.units ELSE 0 END "
		"      FROM benefit.order_hold_counter k "
		"     WHERE k.order_ref = $1 AND c.kind = k.kind AND c.owner_id = k.owner_id AND c.key = k.key "
		"    RETURNING 1"
		") "
		"UPDATE benefit.order_hold h SET state = $3::benefit.hold_state, closed_at = $4, closed_by = SESSION_USER "
		" WHERE h.order_ref = $1 AND (SELECT pg_catalog.count(*) FROM s) >= 0",
		4, t_settle_one);

	/* the units of several orders given back or moved (their counter rows locked before) */
	plan_settle_many = benefit_plans_keep(set,
		"UPDATE benefit.counter c "
		"   SET held = c.held - d.units, used = c.used + CASE WHEN $2 THEN d.units ELSE 0 END "
		"  FROM (SELECT k.kind, k.owner_id, k.key, pg_catalog.sum(k.units)::pg_catalog.int4 AS units "
		"          FROM benefit.order_hold_counter k WHERE k.order_ref OPERATOR(pg_catalog.=) ANY ($1) "
		"         GROUP BY 1, 2, 3) d "
		" WHERE c.kind = d.kind AND c.owner_id = d.owner_id AND c.key = d.key",
		2, t_settle_many);

	/* a confirmed order's codes (locked before) used, with their history rows in code order */
	plan_use_codes = benefit_plans_keep(set,
		"WITH u AS ("
		"    UPDATE benefit.single_use_code c "
		"       SET state = 'used', used_at = $2, used_by_contact = $3, used_order = $1, "
		"           hold_order = NULL, hold_until = NULL "
		"      FROM benefit.order_code o "
		"     WHERE o.order_ref = $1 AND c.code OPERATOR(benefit.=) o.code "
		"       AND c.state = 'held' AND c.hold_order = $1 "
		"    RETURNING c.code"
		") "
		"INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel) "
		"SELECT u.code, 'held', 'used', $2, $1, $3, $4 FROM u ORDER BY u.code",
		4, t_use);

	/* the codes the orders still hold given back (locked before), with history rows in code order */
	plan_release_codes = benefit_plans_keep(set,
		"WITH u AS ("
		"    UPDATE benefit.single_use_code c SET state = 'issued', hold_order = NULL, hold_until = NULL "
		"      FROM benefit.order_code o "
		"     WHERE o.order_ref OPERATOR(pg_catalog.=) ANY ($1) AND c.code OPERATOR(benefit.=) o.code "
		"       AND c.state = 'held' AND c.hold_order = o.order_ref "
		"    RETURNING c.code, o.order_ref"
		") "
		"INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, reason) "
		"SELECT u.code, 'held', 'issued', u.order_ref, $2 FROM u ORDER BY u.code",
		2, t_release);

	/*
	 * expire_holds at READ COMMITTED: the due holds found by deadline in
	 * benefit.order_open, rechecked on their order row (closed or given a
	 * later deadline since the statement began: left), locked without
	 * waiting (a hold being confirmed or released right now is skipped:
	 * that call decides) and closed
	 */
	plan_expire_rc = benefit_plans_keep(set,
		"WITH due AS ("
		"    SELECT o.order_ref FROM benefit.order_open p "
		"      JOIN benefit.order_hold o ON o.order_ref = p.order_ref "
		"     WHERE p.held_until < $1 "
		"       AND o.state = 'held' AND o.held_until < $1 "
		"     ORDER BY p.held_until "
		"     LIMIT 1000 "
		"       FOR UPDATE OF o SKIP LOCKED"
		"), expired AS ("
		"    UPDATE benefit.order_hold o SET state = 'expired', closed_at = $1, closed_by = SESSION_USER "
		"      FROM due WHERE o.order_ref = due.order_ref "
		"    RETURNING o.order_ref"
		") "
		"SELECT pg_catalog.array_agg(e.order_ref ORDER BY e.order_ref) FROM expired e",
		1, t_now);

	/* expire_holds at REPEATABLE READ and SERIALIZABLE: the due holds of the snapshot */
	plan_due = benefit_plans_keep(set,
		"SELECT p.order_ref FROM benefit.order_open p WHERE p.held_until < $1 "
		" ORDER BY p.held_until LIMIT 1000",
		1, t_now);
	plan_lock_due = benefit_plans_keep(set,
		"SELECT 1 FROM benefit.order_hold o "
		" WHERE o.order_ref = $1 AND o.state = 'held' AND o.held_until < $2 "
		"   FOR UPDATE SKIP LOCKED",
		2, t_lock_due);
	plan_expire_rows = benefit_plans_keep(set,
		"UPDATE benefit.order_hold o SET state = 'expired', closed_at = $2, closed_by = SESSION_USER "
		" WHERE o.order_ref OPERATOR(pg_catalog.=) ANY ($1)",
		2, t_expire_rows);
}

/* Runs a kept statement; elog on anything but the expected result. */
static void
run(SPIPlanPtr plan, Datum *args, const char *nulls, int expected, const char *what)
{
	int			ret = SPI_execute_plan(plan, args, nulls, false, 0);

	if (ret != expected)
		elog(ERROR, "%s failed: %s", what, SPI_result_code_string(ret));
}

/* A text[] of one order reference. */
static Datum
one_order(Datum order_ref)
{
	return PointerGetDatum(construct_array(&order_ref, 1, TEXTOID, -1, false, TYPALIGN_INT));
}

/* An order row as plan_order reads it (locked). */
typedef struct OrderRow
{
	char	   *state;
	TimestampTz held_until;
	bool		contact_null;
	int64		contact_id;
	Datum		channel;
	bool		channel_null;
	bool		has_codes;
	int64		ncounters;
} OrderRow;

/* Reads and locks the order row; false when there is none. */
static bool
lock_order(Datum order_ref, OrderRow *o)
{
	bool		isnull;

	run(plan_order, &order_ref, NULL, SPI_OK_SELECT, "locking the order");
	if (SPI_processed == 0)
		return false;
	o->state = col_text(0, 1, NULL);
	o->held_until = col_timestamptz(0, 2, &isnull);
	o->contact_id = col_int8(0, 3, &o->contact_null);
	o->channel = col_datum(0, 4, &o->channel_null);
	o->has_codes = col_bool(0, 5);
	o->ncounters = col_int8(0, 6, &isnull);
	return true;
}

/*
 * Locks the codes of the orders in code order.  With check_order set, the
 * reason why that order may not be confirmed because of its codes (one an
 * operator invalidated, or no longer held by it), in code order, or NULL.
 */
static const char *
lock_codes(Datum orders, const char *check_order)
{
	run(plan_lock_codes, &orders, NULL, SPI_OK_SELECT, "locking the codes");
	if (check_order == NULL)
		return NULL;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *state = col_text(i, 1, NULL);
		char	   *hold_order = col_text(i, 2, NULL);

		if (strcmp(state, "held") != 0 || hold_order == NULL || strcmp(hold_order, check_order) != 0)
		{
			if (strcmp(state, "invalidated") == 0)
				return "invalidated";
			if (strcmp(state, "used") == 0)
				return "already_used";
			return "held_by_other_order";
		}
	}
	return NULL;
}

/*
 * Closes one held order whose row lock_order has locked and read: confirmed
 * (its held units and codes used) or given back (released, expired: its
 * codes back to issued with reason), in the common lock order.  codes_locked:
 * the caller has locked its codes already.
 */
static void
settle_order(Datum order_ref, const OrderRow *o, const char *to, const char *reason,
			 TimestampTz now, bool codes_locked)
{
	bool		confirm = strcmp(to, "confirmed") == 0;
	Datum		orders = (Datum) 0;
	Datum		args[4];
	char		nulls[4];

	if (o->has_codes || o->ncounters > 1)
		orders = one_order(order_ref);
	if (o->has_codes && !codes_locked)
		lock_codes(orders, NULL);
	if (o->ncounters > 1)
		run(plan_lock_counters, &orders, NULL, SPI_OK_SELECT, "locking the counters");
	if (o->has_codes && confirm)
	{
		args[0] = order_ref;
		args[1] = TimestampTzGetDatum(now);
		args[2] = Int64GetDatum(o->contact_id);
		args[3] = o->channel;
		memset(nulls, ' ', sizeof(nulls));
		nulls[2] = o->contact_null ? 'n' : ' ';
		nulls[3] = o->channel_null ? 'n' : ' ';
		run(plan_use_codes, args, nulls, SPI_OK_INSERT, "using the codes");
	}
	else if (o->has_codes)
	{
		args[0] = orders;
		args[1] = CStringGetTextDatum(reason);
		run(plan_release_codes, args, NULL, SPI_OK_INSERT, "giving the codes back");
	}
	args[0] = order_ref;
	args[1] = BoolGetDatum(confirm);
	args[2] = CStringGetTextDatum(to);
	args[3] = TimestampTzGetDatum(now);
	run(plan_settle_one, args, NULL, SPI_OK_UPDATE, "closing the order");
}

/*
 * The reason type (the result of confirm and release), looked up once per
 * function OID until benefit_catalog_epoch() says the catalogs changed.
 */
static uint64 types_epoch = 0;
static Oid	types_fn_oid = InvalidOid;
static Oid	reason_type = InvalidOid;

static Oid
result_reason_type(FunctionCallInfo fcinfo)
{
	uint64		epoch = benefit_catalog_epoch();

	if (types_epoch == epoch && types_fn_oid == fcinfo->flinfo->fn_oid && OidIsValid(reason_type))
		return reason_type;
	reason_type = get_func_rettype(fcinfo->flinfo->fn_oid);
	types_fn_oid = fcinfo->flinfo->fn_oid;
	types_epoch = epoch;
	return reason_type;
}

/* Connects SPI, pushes the search path, makes the plans. */
static void
begin_call(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* an error unwinds the pushed path with the (sub)transaction */
	benefit_push_search_path();
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
}

/* Pops the search path, finishes SPI. */
static void
end_call(void)
{
	benefit_pop_search_path();
	SPI_finish();
}

/* The reason of confirm for the order order_ref, at now. */
static const char *
confirm_order(Datum order_ref, TimestampTz now)
{
	OrderRow	o;
	const char *reason;
	char	   *order_str;

	if (!lock_order(order_ref, &o))
		return "unknown_order";
	if (strcmp(o.state, "confirmed") == 0)
		return "ok";			/* confirming twice is harmless */
	if (strcmp(o.state, "refunded") == 0)
		return "already_refunded";
	if (strcmp(o.state, "released") == 0)
		return "already_released";
	if (strcmp(o.state, "expired") == 0)
		return "hold_expired";
	if (o.held_until < now)
	{
		/* past its deadline at the call's instant: never confirmed; given back now */
		settle_order(order_ref, &o, "expired", "hold expired", now, false);
		return "hold_expired";
	}

	/*
	 * A hold is a promise until its deadline: a benefit suspended or closed,
	 * a contact who lost the indicator level, a promo code switched off
	 * since do not undo it.  Only a code an operator invalidated refuses
	 * (nothing changes; the hold stays until released or expired).
	 */
	if (o.has_codes)
	{
		order_str = TextDatumGetCString(order_ref);
		/* the row values live in SPI's memory: keep what settle_order needs */
		if (!o.channel_null)
			o.channel = PointerGetDatum(DatumGetTextPCopy(o.channel));
		reason = lock_codes(one_order(order_ref), order_str);
		if (reason != NULL)
			return reason;
	}
	settle_order(order_ref, &o, "confirmed", NULL, now, true);
	return "ok";
}

PG_FUNCTION_INFO_V1(benefit_confirm);

/* benefit.confirm(order_ref): makes a hold's uses final. */
Datum
benefit_confirm(PG_FUNCTION_ARGS)
{
	Oid			rtype = result_reason_type(fcinfo);
	TimestampTz now = GetCurrentTimestamp();	/* the call's instant */
	const char *reason;

	benefit_require_writable("benefit.confirm()");
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(benefit_reason_datum(rtype, "unknown_order"));
	begin_call();
	reason = confirm_order(PG_GETARG_DATUM(0), now);
	end_call();
	PG_RETURN_DATUM(benefit_reason_datum(rtype, reason));
}

/* The reason of release for the order order_ref. */
static const char *
release_order(Datum order_ref)
{
	OrderRow	o;

	if (!lock_order(order_ref, &o))
		return "unknown_order";
	if (strcmp(o.state, "confirmed") == 0)
		return "already_confirmed";
	if (strcmp(o.state, "refunded") == 0)
		return "already_refunded";
	if (strcmp(o.state, "held") != 0)
		return "ok";			/* already given back */
	settle_order(order_ref, &o, "released", "order released", GetCurrentTimestamp(), false);
	return "ok";
}

PG_FUNCTION_INFO_V1(benefit_release);

/* benefit.release(order_ref): gives back everything a hold reserved. */
Datum
benefit_release(PG_FUNCTION_ARGS)
{
	Oid			rtype = result_reason_type(fcinfo);
	const char *reason;

	benefit_require_writable("benefit.release()");
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(benefit_reason_datum(rtype, "unknown_order"));
	begin_call();
	reason = release_order(PG_GETARG_DATUM(0));
	end_call();
	PG_RETURN_DATUM(benefit_reason_datum(rtype, reason));
}

/* One due hold to lock at REPEATABLE READ or SERIALIZABLE. */
typedef struct DueHold
{
	Datum		args[2];
} DueHold;

/* Locks the due hold if it is still held and due, without waiting; false when not. */
static bool
lock_due(void *arg)
{
	DueHold    *d = arg;

	run(plan_lock_due, d->args, NULL, SPI_OK_SELECT, "locking a due hold");
	return SPI_processed == 1;
}

PG_FUNCTION_INFO_V1(benefit_expire_holds);

/* benefit.expire_holds(): gives back what the holds past their deadline reserved. */
Datum
benefit_expire_holds(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTimestamp();
	Datum		orders = (Datum) 0;
	int			n = 0;
	bool		isnull;
	Datum		args[2];

	benefit_require_writable("benefit.expire_holds()");
	begin_call();
	if (!IsolationUsesXactSnapshot())
	{
		/* holds being confirmed or released right now are skipped: that call decides */
		args[0] = TimestampTzGetDatum(now);
		run(plan_expire_rc, args, NULL, SPI_OK_SELECT, "expiring the holds");
		orders = col_datum_copy(0, 1, &isnull);
		if (!isnull)
			n = ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(orders)), ARR_DIMS(DatumGetArrayTypeP(orders)));
	}
	else
	{
		/*
		 * REPEATABLE READ, SERIALIZABLE: the snapshot may still show as held
		 * a hold that another run, a confirm or a release has closed since;
		 * locking it fails with 40001.  That call decided: the hold is
		 * skipped.  So the holds are locked one by one, each in a
		 * subtransaction (at these isolation levels only); a hold being
		 * closed right now is skipped as above.
		 */
		MemoryContext cxt = CurrentMemoryContext;
		Datum	   *refs;
		Datum	   *kept;
		uint64		ndue;

		args[0] = TimestampTzGetDatum(now);
		run(plan_due, args, NULL, SPI_OK_SELECT, "finding the due holds");
		ndue = SPI_processed;
		refs = palloc(sizeof(Datum) * Max(ndue, 1));
		kept = palloc(sizeof(Datum) * Max(ndue, 1));
		for (uint64 i = 0; i < ndue; i++)
			refs[i] = col_datum_copy(i, 1, &isnull);
		SPI_freetuptable(SPI_tuptable);
		for (uint64 i = 0; i < ndue; i++)
		{
			DueHold		d;

			d.args[0] = refs[i];
			d.args[1] = TimestampTzGetDatum(now);
			if (benefit_in_subxact(lock_due, &d, ERRCODE_T_R_SERIALIZATION_FAILURE))
				kept[n++] = refs[i];
			MemoryContextSwitchTo(cxt);
		}
		if (n > 0)
		{
			orders = PointerGetDatum(construct_array(kept, n, TEXTOID, -1, false, TYPALIGN_INT));
			args[0] = orders;
			args[1] = TimestampTzGetDatum(now);
			run(plan_expire_rows, args, NULL, SPI_OK_UPDATE, "expiring the holds");
		}
	}
	if (n > 0)
	{
		/*
		 * the common lock order: order rows (locked above), codes, counters;
		 * a code or counter changed since the snapshot (REPEATABLE READ,
		 * SERIALIZABLE) fails the call with 40001
		 */
		Datum		rargs[2];

		lock_codes(orders, NULL);
		run(plan_lock_counters, &orders, NULL, SPI_OK_SELECT, "locking the counters");
		rargs[0] = orders;
		rargs[1] = BoolGetDatum(false);
		run(plan_settle_many, rargs, NULL, SPI_OK_UPDATE, "giving the units back");
		rargs[1] = CStringGetTextDatum("hold expired");
		run(plan_release_codes, rargs, NULL, SPI_OK_INSERT, "giving the codes back");
	}
	end_call();
	PG_RETURN_INT32(n);
}

PG_FUNCTION_INFO_V1(benefit_settle_order_sql);

/*
 * benefit_internal.settle_order(order, to, reason, now): settle_order for
 * the PL/pgSQL code calls (code_order), the order row locked by the caller.
 */
Datum
benefit_settle_order_sql(PG_FUNCTION_ARGS)
{
	Datum		order_ref = PG_GETARG_DATUM(0);
	char	   *to = DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(1)));
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	TimestampTz now = PG_GETARG_TIMESTAMPTZ(3);
	OrderRow	o;

	begin_call();
	if (lock_order(order_ref, &o))
		settle_order(order_ref, &o, to, reason, now, false);
	end_call();
	PG_RETURN_VOID();
}
