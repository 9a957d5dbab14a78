/*-------------------------------------------------------------------------
 *
 * order.c
 *		The order calls of the ledger in C: benefit.hold (at the end of the
 *		file), benefit.confirm, benefit.release and benefit.expire_holds, and
 *		the one way an order is closed (settle_order) that they share, also
 *		for the PL/pgSQL code calls (benefit_internal.settle_order).
 *
 * Every call takes its row locks in the common order (README "Lock
 * order"): order rows, then single-use codes by code, then counter rows by
 * kind, owner and key.  A statement that locks several rows of one kind
 * sorts them first (SELECT ... ORDER BY ... FOR UPDATE locks in the order
 * of the sort); an UPDATE that joins its rows in no stated order runs only
 * after those rows are locked, or touches one row.
 *
 * The common case of confirm and release, a basket order without codes that
 * reserved on one counter row at most, is one statement: the order row
 * locked and read with what decides the path (has it codes, on how many
 * counter rows did it reserve), its counter row moved and the order closed
 * when it is that simple.  Otherwise the call goes on from the locked row:
 * the order closed by one more statement (with several counter rows, one
 * more again locks them in order first); orders with codes take two more:
 * their codes locked in code order (confirm checks them there), then used
 * or given back with their history rows.
 *
 * Under REPEATABLE READ and SERIALIZABLE, locking or updating a row changed
 * since the snapshot fails with a clean 40001, as the statements of the
 * PL/pgSQL these calls replace did.  All statements are prepared once per
 * backend and kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "basket.h"
#include "pricing.h"
#include "read_only.h"
#include "reason.h"
#include "sale.h"
#include "search_path.h"
#include "spi_util.h"

static BenefitPlans plans;
static SPIPlanPtr plan_order;
static SPIPlanPtr plan_close;
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
static SPIPlanPtr plan_order_due;

/* the statements of hold */
static BenefitPlans hold_plans;
static BenefitPlans counter_plans;
static SPIPlanPtr plan_hold_order;
static SPIPlanPtr plan_insert_order;
static SPIPlanPtr plan_insert_order_plain;
static SPIPlanPtr plan_insert_order1;
static SPIPlanPtr plan_insert_order1_plain;
static SPIPlanPtr plan_read_codes;
static SPIPlanPtr plan_write_codes;
static SPIPlanPtr plan_not_applied;
static SPIPlanPtr plan_try_slot;
static SPIPlanPtr plan_walk_keys;
static SPIPlanPtr plan_walk_lock;
static SPIPlanPtr plan_walk_lock_skip;
static SPIPlanPtr plan_walk_exists;
static SPIPlanPtr plan_take;
static SPIPlanPtr plan_record;
static SPIPlanPtr plan_limited;
static SPIPlanPtr plan_insert_take;
static SPIPlanPtr plan_contact_limits;
static SPIPlanPtr plan_promo_row;
static SPIPlanPtr plan_spread_budget;
static SPIPlanPtr plan_undo_counters;
static SPIPlanPtr plan_drop_counter;
static SPIPlanPtr plan_undo_order;
static SPIPlanPtr plan_adopted;
static SPIPlanPtr plan_takeover;

/* Prepares the statements of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_text[1] = {TEXTOID};
	Oid			t_close[5] = {TEXTOID, BOOLOID, TEXTOID, TIMESTAMPTZOID, BOOLOID};
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

	/*
	 * confirm and release of the common order in one statement: the order
	 * row locked and read with what decides the path (h, as plan_order);
	 * when it is held ($5: and not past its deadline $4), has no code and
	 * reserved on one counter row at most, that row moved ($2: confirm) or
	 * given back (s), then the order closed ($3) (u, whose conditions read
	 * s first).  Otherwise nothing is written and the caller goes on from
	 * the locked row.
	 */
	plan_close = benefit_plans_keep(set,
		"WITH h AS ("
		"    SELECT h.state, h.held_until, h.contact_id, h.channel, "
		"           EXISTS (SELECT 1 FROM benefit.order_code oc WHERE oc.order_ref = h.order_ref) AS has_codes, "
		"           (SELECT pg_catalog.count(*) FROM benefit.order_hold_counter k "
		"             WHERE k.order_ref = h.order_ref) AS ncounters "
		"      FROM benefit.order_hold h WHERE h.order_ref = $1 FOR UPDATE OF h"
		"), go AS ("
		"    SELECT 1 FROM h WHERE h.state = 'held' AND (NOT $5 OR h.held_until >= $4) "
		"       AND NOT h.has_codes AND h.ncounters <= 1"
		"), s AS ("
		"    UPDATE benefit.counter c "
		"       SET held = c.held - k.units, used = c.used + CASE WHEN $2 THEN k.units ELSE 0 END "
		"      FROM benefit.order_hold_counter k "
		"     WHERE k.order_ref = $1 AND c.kind = k.kind AND c.owner_id = k.owner_id AND c.key = k.key "
		"       AND EXISTS (SELECT 1 FROM go) "
		"    RETURNING 1"
		"), u AS ("
		"    UPDATE benefit.order_hold o SET state = $3::benefit.hold_state, closed_at = $4, closed_by = SESSION_USER "
		"     WHERE o.order_ref = $1 AND (SELECT pg_catalog.count(*) FROM s) >= 0 AND EXISTS (SELECT 1 FROM go) "
		"    RETURNING 1"
		") "
		"SELECT h.state::pg_catalog.text, h.held_until, h.contact_id, h.channel, h.has_codes, h.ncounters, "
		"       (SELECT pg_catalog.count(*) FROM u) "
		"  FROM h",
		5, t_close);

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
	/* the order of a code whose hold has passed its deadline, tried without waiting */
	plan_order_due = benefit_plans_keep(set,
		"SELECT h.state::pg_catalog.text, h.held_until, h.contact_id, h.channel, "
		"       EXISTS (SELECT 1 FROM benefit.order_code oc WHERE oc.order_ref = h.order_ref), "
		"       (SELECT pg_catalog.count(*) FROM benefit.order_hold_counter k WHERE k.order_ref = h.order_ref) "
		"  FROM benefit.order_hold h WHERE h.order_ref = $1 AND h.state = 'held' AND h.held_until < $2 "
		"   FOR UPDATE OF h SKIP LOCKED",
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

/* Reads and locks the order row (plan_order or plan_order_due); false when there is none. */
static bool
lock_order_with(SPIPlanPtr plan, Datum *args, OrderRow *o)
{
	bool		isnull;

	run(plan, args, NULL, SPI_OK_SELECT, "locking the order");
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

/* Reads and locks the order row; false when there is none. */
static bool
lock_order(Datum order_ref, OrderRow *o)
{
	return lock_order_with(plan_order, &order_ref, o);
}

/*
 * Reads and locks the order row, and closes it at once (to: confirmed or
 * released, at now) when it is the common order (plan_close); false when
 * there is none.  *closed says whether it was closed.
 */
static bool
lock_and_close(Datum order_ref, const char *to, TimestampTz now, bool check_deadline, OrderRow *o, bool *closed)
{
	Datum		args[5];
	bool		isnull;

	args[0] = order_ref;
	args[1] = BoolGetDatum(strcmp(to, "confirmed") == 0);
	args[2] = CStringGetTextDatum(to);
	args[3] = TimestampTzGetDatum(now);
	args[4] = BoolGetDatum(check_deadline);
	if (!lock_order_with(plan_close, args, o))
		return false;
	*closed = col_int8(0, 7, &isnull) == 1;
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
	bool		closed;

	if (!lock_and_close(order_ref, "confirmed", now, true, &o, &closed))
		return "unknown_order";
	if (closed)
		return "ok";			/* the common order: confirmed by that statement */
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
	bool		closed;
	TimestampTz now = GetCurrentTimestamp();

	if (!lock_and_close(order_ref, "released", now, false, &o, &closed))
		return "unknown_order";
	if (closed)
		return "ok";			/* the common order: released by that statement */
	if (strcmp(o.state, "confirmed") == 0)
		return "already_confirmed";
	if (strcmp(o.state, "refunded") == 0)
		return "already_refunded";
	if (strcmp(o.state, "held") != 0)
		return "ok";			/* already given back */
	settle_order(order_ref, &o, "released", "order released", now, false);
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

/*
 * ----------------------------------------------------------------------
 * benefit.hold: prices a basket and reserves what it needs, all or nothing.
 *
 * The common case, a new order reference, runs without a subtransaction.
 * Every check that needs no counter is made before a code or a counter is
 * written: the order row is locked (it does not exist), the basket priced
 * (pricing.c), the order and its lines inserted in one statement (a
 * concurrent call that made the same order since: order_already_held,
 * nothing written), the codes the basket applies locked in code order and
 * checked (a code taken since the pricing refuses, and the order written so
 * far is deleted).  Then the counters, in the common lock order: the total
 * quota slots of each benefit (by benefit id), the per-performance counters,
 * the contact's, then the promo code's use slots, contact counter and budget
 * slots.  Only a counter may refuse late; the units taken so far are then
 * given back and the order deleted by compensating statements in the same
 * transaction.  Last, the codes are held with their history rows.  The
 * simplest hold (one line, its benefit's total quota the only counter) is
 * one statement after the pricing: the order, its line and the slot.  At
 * READ COMMITTED without an entered code, the order row is looked at only
 * when its insert finds the reference held already (the same outcome: the
 * pricing of such a basket reads and counts no code).
 *
 * A quota slot is taken by one statement that locks one slot with room in
 * its snapshot that no other transaction holds (SKIP LOCKED, from a random
 * slot), then updates it if its current row still has room: the slots with
 * room are chosen by an InitPlan, which the recheck of a row changed since
 * the snapshot does not evaluate again, so that the statement never locks a
 * row it does not return.  When it finds none, the slots are walked in key
 * order, waiting for each lock, as take_slots does (quota.c).  A slot the
 * statement locked and found full since its snapshot (it filled between the
 * snapshot and the lock) stays locked until the transaction ends: the
 * statement is tried again, and a walk that follows never waits on a slot
 * of a lower key than such a slot, so that it cannot close a cycle with
 * another walker; it takes such a slot's room only when no one holds it,
 * and walks again after a millisecond (up to 50 times) while one was held,
 * so that a buyer about to commit is not mistaken for "sold out".
 *
 * Under REPEATABLE READ and SERIALIZABLE the insert of the order runs in a
 * subtransaction: a concurrent hold of the same reference that committed
 * after the snapshot is invisible to it, and only the unique violation of
 * the order's key proves it (order_already_held).  The takeover of a held
 * codes order (hold of the reference of a hold_code order) runs in a
 * subtransaction too, rolled back on a refusal.
 * ----------------------------------------------------------------------
 */

/* Prepares the statements of hold. */
static void
make_hold_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_text[1] = {TEXTOID};
	Oid			t_insert[23] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID,
		INT8OID, INT8OID, TIMESTAMPTZOID,
		INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Oid			t_insert1[23] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID,
		INT8OID, INT8OID, TIMESTAMPTZOID,
	INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
	Oid			t_read_codes[2] = {TEXTARRAYOID, INT4ARRAYOID};
	Oid			t_write_codes[8] = {TEXTOID, TEXTARRAYOID, INT4ARRAYOID, BOOLARRAYOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, INT8OID, TEXTOID};
	Oid			t_not_applied[4] = {TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID, INT8OID};
	Oid			t_ids[1] = {INT8ARRAYOID};
	Oid			t_id[1] = {INT8OID};
	Oid			t_drop[3] = {TEXTOID, INT8OID, INT8OID};

	plan_hold_order = benefit_plans_keep(set,
		"SELECT h.kind, h.state::pg_catalog.text, h.held_until FROM benefit.order_hold h "
		" WHERE h.order_ref = $1 FOR UPDATE",
		1, t_text);

#define INSERT_ORDER(conflict, lines) \
		"WITH o AS (" \
		"    INSERT INTO benefit.order_hold (order_ref, contact_id, channel, point_of_sale, held_until, promo_code_id, " \
		"                                    base_cents, lines_cents, promo_discount_cents, total_cents, created_at) " \
		"    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) " conflict \
		"    RETURNING order_ref" \
		"), l AS (" \
		"    INSERT INTO benefit.order_line (order_ref, line_no, product_id, performance_id, seat_category_id, " \
		"                                    audience_id, quantity, base_price_cents, unit_price_cents, benefit_id, " \
		"                                    tariff_id, promo_discount_cents, total_cents) " \
		"    SELECT o.order_ref, u.* FROM o, " lines \
		"             AS u(line_no, product_id, performance_id, seat_category_id, audience_id, quantity, " \
		"                  base_price_cents, unit_price_cents, benefit_id, tariff_id, promo_discount_cents, total_cents)" \
		") " \
		"SELECT pg_catalog.count(*) FROM o"
#define LINES_ARRAYS "unnest($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
#define LINE_ONE "(VALUES ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23))"
#define ON_CONFLICT "ON CONFLICT (order_ref) DO NOTHING"

	/*
	 * the order and its lines; a concurrent call made the same order since:
	 * nothing (ON CONFLICT), or the unique violation (REPEATABLE READ,
	 * SERIALIZABLE: in a subtransaction); a basket of one line (the most
	 * common) as values, without an unnest of twelve arrays
	 */
	plan_insert_order = benefit_plans_keep(set, INSERT_ORDER(ON_CONFLICT, LINES_ARRAYS), 23, t_insert);
	plan_insert_order_plain = benefit_plans_keep(set, INSERT_ORDER("", LINES_ARRAYS), 23, t_insert);
	plan_insert_order1 = benefit_plans_keep(set, INSERT_ORDER(ON_CONFLICT, LINE_ONE), 23, t_insert1);
	plan_insert_order1_plain = benefit_plans_keep(set, INSERT_ORDER("", LINE_ONE), 23, t_insert1);
#undef INSERT_ORDER
#undef LINES_ARRAYS
#undef LINE_ONE
#undef ON_CONFLICT

	/* the codes the basket applies, locked in code order, with what decides whether they can be held */
	plan_read_codes = benefit_plans_keep(set,
		"SELECT c.code::pg_catalog.text, c.state::pg_catalog.text, c.hold_order, c.hold_until, u.units "
		"  FROM unnest($1::benefit.code[], $2) AS u(code, units) "
		"  JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) u.code "
		" ORDER BY c.code FOR UPDATE OF c",
		2, t_read_codes);

	/* the codes held by the order (locked and checked before), their history rows in code order, its codes */
	plan_write_codes = benefit_plans_keep(set,
		"WITH u AS ("
		"    UPDATE benefit.single_use_code c SET state = 'held', hold_order = $1, hold_until = $5 "
		"      FROM unnest($2::benefit.code[], $3, $4) AS x(code, units, adopted) "
		"     WHERE c.code OPERATOR(benefit.=) x.code "
		"    RETURNING c.code, x.units, x.adopted"
		"), h AS ("
		"    INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel) "
		"    SELECT u.code, 'issued', 'held', $6, $1, $7, $8 FROM u WHERE NOT u.adopted ORDER BY u.code"
		") "
		"INSERT INTO benefit.order_code (order_ref, code, units) SELECT $1, u.code, u.units FROM u ORDER BY u.code",
		8, t_write_codes);

	/* the codes of a taken-over codes order the basket did not apply: back, with a history row each */
	plan_not_applied = benefit_plans_keep(set,
		"INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, reason) "
		"SELECT a.code, 'held', 'issued', $3, $1, $4, 'not applied by the basket' "
		"  FROM unnest($2::benefit.code[]) AS a(code) ORDER BY a.code",
		4, t_not_applied);

	plan_contact_limits = benefit_plans_keep(set,
		"SELECT b.benefit_id, b.quota_per_contact FROM benefit.benefit b "
		" WHERE b.benefit_id OPERATOR(pg_catalog.=) ANY ($1) AND b.quota_per_contact IS NOT NULL",
		1, t_ids);
	plan_promo_row = benefit_plans_keep(set,
		"SELECT pc.max_uses_per_contact, pc.max_discount_cents_total, "
		"       EXISTS (SELECT 1 FROM benefit.counter c WHERE c.kind = 'promo_budget' AND c.owner_id = $1) "
		"  FROM benefit.promo_code pc WHERE pc.promo_code_id = $1",
		1, t_id);
	plan_spread_budget = benefit_plans_keep(set,
		"SELECT benefit_internal.spread_slots('promo_budget', $1, NULL)",
		1, t_id);

	/* a late refusal: the units the order took given back, the rows it made deleted */
	plan_undo_counters = benefit_plans_keep(set,
		"WITH k AS (DELETE FROM benefit.order_hold_counter k WHERE k.order_ref = $1 "
		"           RETURNING k.kind, k.owner_id, k.key, k.units) "
		"UPDATE benefit.counter c SET held = c.held - k.units FROM k "
		" WHERE c.kind = k.kind AND c.owner_id = k.owner_id AND c.key = k.key",
		1, t_text);
	plan_drop_counter = benefit_plans_keep(set,
		"DELETE FROM benefit.counter c WHERE c.kind = $1::benefit.counter_kind AND c.owner_id = $2 AND c.key = $3 "
		"   AND c.held = 0 AND c.used = 0",
		3, t_drop);
	plan_undo_order = benefit_plans_keep(set,
		"WITH l AS (DELETE FROM benefit.order_line l WHERE l.order_ref = $1) "
		"DELETE FROM benefit.order_hold h WHERE h.order_ref = $1",
		1, t_text);

	/* the takeover of a held codes order: its codes still held by it, in code order */
	plan_adopted = benefit_plans_keep(set,
		"SELECT c.code::pg_catalog.text FROM benefit.order_code oc "
		"  JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) oc.code "
		" WHERE oc.order_ref = $1 AND c.state = 'held' AND c.hold_order = $1 ORDER BY c.code",
		1, t_text);
	/* its reservation given back (codes and counters locked before), its rows deleted */
	plan_takeover = benefit_plans_keep(set,
		"WITH c AS ("
		"    UPDATE benefit.single_use_code c SET state = 'issued', hold_order = NULL, hold_until = NULL "
		"      FROM benefit.order_code oc "
		"     WHERE oc.order_ref = $1 AND c.code OPERATOR(benefit.=) oc.code "
		"       AND c.state = 'held' AND c.hold_order = $1"
		"), k AS (DELETE FROM benefit.order_hold_counter k WHERE k.order_ref = $1), "
		"   oc AS (DELETE FROM benefit.order_code oc WHERE oc.order_ref = $1) "
		"DELETE FROM benefit.order_hold h WHERE h.order_ref = $1",
		1, t_text);
}

/* Prepares the counter statements of hold (kinds as text). */
static void
make_counter_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_try[5] = {TEXTOID, TEXTOID, INT8OID, INT4OID, INT4OID};
	Oid			t_walk[2] = {TEXTOID, INT8OID};
	Oid			t_key[3] = {TEXTOID, INT8OID, INT8OID};
	Oid			t_take[4] = {TEXTOID, INT8OID, INT8OID, INT4OID};
	Oid			t_record[5] = {TEXTOID, TEXTOID, INT8OID, INT8OID, INT4OID};
	Oid			t_limited[6] = {TEXTOID, TEXTOID, INT8OID, INT8OID, INT4OID, INT4OID};
	Oid			t_insert_take[26] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID,
		INT8OID, INT8OID, TIMESTAMPTZOID,
		INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, INT4OID, INT4OID};

	/*
	 * one slot with room in the snapshot (an InitPlan: not evaluated again
	 * when a changed row is rechecked, so that no row is locked and then
	 * left), no other transaction holds, from a random one; taken if its
	 * current row has room, and recorded.  Returns the key locked and the
	 * key taken (NULL when none).
	 */
	plan_try_slot = benefit_plans_keep(set,
		"WITH f AS ("
		"    SELECT c.key FROM benefit.counter c "
		"     WHERE c.kind = $2::benefit.counter_kind AND c.owner_id = $3 "
		"       AND c.key OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT g.key FROM benefit.counter g "
		"                  WHERE g.kind = $2::benefit.counter_kind AND g.owner_id = $3 "
		"                    AND (g.cap IS NULL OR g.cap - g.held - g.used >= $4))) "
		"     ORDER BY (c.key + $5) % 16 LIMIT 1 "
		"       FOR NO KEY UPDATE OF c SKIP LOCKED"
		"), s AS ("
		"    UPDATE benefit.counter k SET held = k.held + $4 FROM f "
		"     WHERE k.kind = $2::benefit.counter_kind AND k.owner_id = $3 AND k.key = f.key "
		"       AND (k.cap IS NULL OR k.cap - k.held - k.used >= $4) "
		"    RETURNING k.key"
		"), r AS ("
		"    INSERT INTO benefit.order_hold_counter AS o (order_ref, kind, owner_id, key, units) "
		"    SELECT $1, $2::benefit.counter_kind, $3, s.key, $4 FROM s "
		"    ON CONFLICT (order_ref, kind, owner_id, key) DO UPDATE SET units = o.units + EXCLUDED.units"
		") "
		"SELECT (SELECT f.key FROM f), (SELECT s.key FROM s)",
		5, t_try);
	plan_walk_keys = benefit_plans_keep(set,
		"SELECT c.key FROM benefit.counter c WHERE c.kind = $1::benefit.counter_kind AND c.owner_id = $2 "
		" ORDER BY c.key",
		2, t_walk);
	plan_walk_lock = benefit_plans_keep(set,
		"SELECT c.cap, c.held, c.used FROM benefit.counter c "
		" WHERE c.kind = $1::benefit.counter_kind AND c.owner_id = $2 AND c.key = $3 FOR UPDATE",
		3, t_key);
	plan_walk_lock_skip = benefit_plans_keep(set,
		"SELECT c.cap, c.held, c.used FROM benefit.counter c "
		" WHERE c.kind = $1::benefit.counter_kind AND c.owner_id = $2 AND c.key = $3 FOR UPDATE SKIP LOCKED",
		3, t_key);
	plan_walk_exists = benefit_plans_keep(set,
		"SELECT 1 FROM benefit.counter c "
		" WHERE c.kind = $1::benefit.counter_kind AND c.owner_id = $2 AND c.key = $3",
		3, t_key);
	plan_take = benefit_plans_keep(set,
		"UPDATE benefit.counter c SET held = c.held + $4 "
		" WHERE c.kind = $1::benefit.counter_kind AND c.owner_id = $2 AND c.key = $3",
		4, t_take);
	plan_record = benefit_plans_keep(set,
		"INSERT INTO benefit.order_hold_counter AS o (order_ref, kind, owner_id, key, units) "
		"VALUES ($1, $2::benefit.counter_kind, $3, $4, $5) "
		"ON CONFLICT (order_ref, kind, owner_id, key) DO UPDATE SET units = o.units + EXCLUDED.units",
		5, t_record);
	/*
	 * the simplest hold (READ COMMITTED, one line, one benefit's total quota
	 * and nothing else to take) in one statement: the order and its line
	 * (o, l: nothing when the reference is held already), then a slot taken
	 * as plan_try_slot does (f, s, r: only when the order was written).
	 * Returns whether the order was written, the key locked and the key
	 * taken.
	 */
	plan_insert_take = benefit_plans_keep(set,
		"WITH o AS ("
		"    INSERT INTO benefit.order_hold (order_ref, contact_id, channel, point_of_sale, held_until, promo_code_id, "
		"                                    base_cents, lines_cents, promo_discount_cents, total_cents, created_at) "
		"    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (order_ref) DO NOTHING "
		"    RETURNING order_ref"
		"), l AS ("
		"    INSERT INTO benefit.order_line (order_ref, line_no, product_id, performance_id, seat_category_id, "
		"                                    audience_id, quantity, base_price_cents, unit_price_cents, benefit_id, "
		"                                    tariff_id, promo_discount_cents, total_cents) "
		"    SELECT o.order_ref, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23 FROM o"
		"), f AS ("
		"    SELECT c.key FROM benefit.counter c "
		"     WHERE c.kind = 'benefit_slot' AND c.owner_id = $24 "
		"       AND c.key OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT g.key FROM benefit.counter g "
		"                  WHERE g.kind = 'benefit_slot' AND g.owner_id = $24 "
		"                    AND (g.cap IS NULL OR g.cap - g.held - g.used >= $25))) "
		"       AND EXISTS (SELECT 1 FROM o) "
		"     ORDER BY (c.key + $26) % 16 LIMIT 1 "
		"       FOR NO KEY UPDATE OF c SKIP LOCKED"
		"), s AS ("
		"    UPDATE benefit.counter k SET held = k.held + $25 FROM f "
		"     WHERE k.kind = 'benefit_slot' AND k.owner_id = $24 AND k.key = f.key "
		"       AND (k.cap IS NULL OR k.cap - k.held - k.used >= $25) "
		"    RETURNING k.key"
		"), r AS ("
		"    INSERT INTO benefit.order_hold_counter (order_ref, kind, owner_id, key, units) "
		"    SELECT $1, 'benefit_slot', $24, s.key, $25 FROM s"
		") "
		"SELECT (SELECT pg_catalog.count(*) FROM o), (SELECT f.key FROM f), (SELECT s.key FROM s)",
		26, t_insert_take);

	/* a per-performance or per-contact counter, if the limit leaves room; says whether it made the row */
	plan_limited = benefit_plans_keep(set,
		"WITH c AS ("
		"    INSERT INTO benefit.counter AS c (kind, owner_id, key, held) "
		"    VALUES ($2::benefit.counter_kind, $3, $4, $5) "
		"    ON CONFLICT (kind, owner_id, key) DO UPDATE SET held = c.held + EXCLUDED.held "
		"     WHERE c.held + c.used + EXCLUDED.held <= $6 "
		"    RETURNING c.xmax = 0 AS made"
		"), r AS ("
		"    INSERT INTO benefit.order_hold_counter AS o (order_ref, kind, owner_id, key, units) "
		"    SELECT $1, $2::benefit.counter_kind, $3, $4, $5 FROM c "
		"    ON CONFLICT (order_ref, kind, owner_id, key) DO UPDATE SET units = o.units + EXCLUDED.units"
		") "
		"SELECT c.made FROM c",
		6, t_limited);
}

/* A counter row a hold made (take_limited's insert), deleted again on a late refusal. */
typedef struct MadeCounter
{
	const char *kind;
	int64		owner;
	int64		key;
} MadeCounter;

/* What one hold works on. */
typedef struct HoldCall
{
	Datum		order_ref;
	const char *order_str;
	bool		contact_null;
	int64		contact_id;
	Datum		channel;
	bool		channel_null;
	Datum		point_of_sale;
	bool		point_of_sale_null;
	TimestampTz held_until;
	TimestampTz now;
	PriceCall  *call;
	/* the codes of a taken-over codes order (text, in code order) */
	int			nadopted;
	char	  **adopted;
	/* counter rows made by this hold */
	MadeCounter *made;
	int			nmade;
} HoldCall;

/* A new int4[] of n values. */
static Datum
int4_array(const int32 *v, const bool *isnull, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
		d[i] = Int32GetDatum(v[i]);
	return PointerGetDatum(construct_md_array(d, (bool *) isnull, 1, dims, lbs, INT4OID, sizeof(int32), true,
											  TYPALIGN_INT));
}

/* A new text[] of n strings. */
static Datum
text_array(char **v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Units of one counter to take. */
typedef struct Take
{
	int64		owner;
	int64		key;
	int64		units;
	int64		limit;
} Take;

/* The order and its lines: plan (plan_insert_order or _plain) with the arguments of h. */
typedef struct OrderInsert
{
	SPIPlanPtr	plan;
	Datum		args[26];
	char		nulls[26];
	bool		inserted;
	int64		locked;			/* plan_insert_take: the slot locked, -1 for none */
	bool		took;			/* plan_insert_take: the units taken on it */
} OrderInsert;

/* Runs the insert of the order; true when it inserted it. */
static bool
insert_order_run(void *arg)
{
	OrderInsert *ins = arg;
	bool		isnull;

	run(ins->plan, ins->args, ins->nulls, SPI_OK_SELECT, "writing the order");
	ins->inserted = col_int8(0, 1, &isnull) == 1;
	if (ins->plan == plan_insert_take)
	{
		ins->locked = col_int8(0, 2, &isnull);
		if (isnull)
			ins->locked = -1;
		(void) col_int8(0, 3, &isnull);
		ins->took = !isnull;
	}
	return ins->inserted;
}

/*
 * Inserts the order with its priced lines; false when the order reference
 * was held by a concurrent call meanwhile (nothing written).  in_subxact:
 * the plain insert in a subtransaction, the unique violation of the key
 * caught (REPEATABLE READ, SERIALIZABLE).  slot (a basket of one line, not
 * in_subxact): the units to take on the slots of a benefit, tried in the
 * same statement; *took says whether they were, *locked the slot locked
 * and found full meanwhile (-1 for none).
 */
static bool
insert_order(HoldCall *h, bool in_subxact, const Take *slot, bool *took, int64 *locked)
{
	const PriceCall *call = h->call;
	int			n = call->nlines;
	int32	   *i4 = palloc(sizeof(int32) * Max(n, 1));
	int32	   *qty = palloc(sizeof(int32) * Max(n, 1));
	int64	   *v[10];
	bool	   *nl[10];
	OrderInsert ins;

	for (int k = 0; k < 10; k++)
	{
		v[k] = palloc(sizeof(int64) * Max(n, 1));
		nl[k] = palloc0(sizeof(bool) * Max(n, 1));
	}
	for (int i = 0; i < n; i++)
	{
		const PriceLine *l = &call->lines[i];
		const PriceCandidate *c = l->chosen >= 0 ? &call->cands[l->chosen] : NULL;

		i4[i] = i + 1;
		qty[i] = l->quantity;
		v[0][i] = l->product_id;
		v[1][i] = l->dims.performance_id;
		nl[1][i] = l->dims.performance_any;
		v[2][i] = l->dims.seat_category_id;
		nl[2][i] = l->dims.seat_any;
		v[3][i] = l->dims.audience_id;
		nl[3][i] = l->dims.audience_any;
		v[4][i] = l->base;
		v[5][i] = c ? c->unit : l->base;
		v[6][i] = c ? call->benefits[c->benefit].id : 0;
		nl[6][i] = c == NULL;
		v[7][i] = c ? c->tariff_id : 0;
		nl[7][i] = c == NULL;
		v[8][i] = call->parts[i];
		v[9][i] = call->amounts[i] - call->parts[i];
	}
	memset(ins.nulls, ' ', sizeof(ins.nulls));
	ins.args[0] = h->order_ref;
	ins.args[1] = Int64GetDatum(h->contact_id);
	ins.nulls[1] = h->contact_null ? 'n' : ' ';
	ins.args[2] = h->channel;
	ins.nulls[2] = h->channel_null ? 'n' : ' ';
	ins.args[3] = h->point_of_sale;
	ins.nulls[3] = h->point_of_sale_null ? 'n' : ' ';
	ins.args[4] = TimestampTzGetDatum(h->held_until);
	ins.args[5] = Int64GetDatum(call->promo_id);
	ins.nulls[5] = call->promo_applied ? ' ' : 'n';
	ins.args[6] = Int64GetDatum(call->base_total);
	ins.args[7] = Int64GetDatum(call->lines_total);
	ins.args[8] = Int64GetDatum(call->discount);
	ins.args[9] = Int64GetDatum(call->lines_total - call->discount);
	ins.args[10] = TimestampTzGetDatum(h->now);
	if (n == 1)
	{
		ins.args[11] = Int32GetDatum(i4[0]);
		ins.args[16] = Int32GetDatum(qty[0]);
		for (int k = 0, a = 12; k < 10; k++, a++)
		{
			if (a == 16)
				a++;
			ins.args[a] = Int64GetDatum(v[k][0]);
			ins.nulls[a] = nl[k][0] ? 'n' : ' ';
		}
	}
	else
	{
		ins.args[11] = int4_array(i4, NULL, n);
		ins.args[16] = int4_array(qty, NULL, n);
		for (int k = 0, a = 12; k < 10; k++, a++)
		{
			if (a == 16)
				a++;
			ins.args[a] = benefit_int8_array(v[k], nl[k], n);
		}
	}
	ins.inserted = false;
	if (slot != NULL && n == 1 && !in_subxact)
	{
		bool		inserted;

		ins.plan = plan_insert_take;
		ins.args[23] = Int64GetDatum(slot->owner);
		ins.args[24] = Int32GetDatum((int32) slot->units);
		ins.args[25] = Int32GetDatum((int32) pg_prng_uint64_range(&pg_global_prng_state, 0, 15));
		ins.nulls[23] = ins.nulls[24] = ins.nulls[25] = ' ';
		inserted = insert_order_run(&ins);
		*took = ins.took;
		*locked = ins.locked;
		return inserted;
	}
	if (took)
		*took = false;
	if (!in_subxact)
	{
		ins.plan = n == 1 ? plan_insert_order1 : plan_insert_order;
		return insert_order_run(&ins);
	}
	ins.plan = n == 1 ? plan_insert_order1_plain : plan_insert_order_plain;
	return benefit_in_subxact(insert_order_run, &ins, ERRCODE_UNIQUE_VIOLATION);
}

/* The refusal of write_hold when the order reference is held already (nothing written). */
static const char order_already_held[] = "order_already_held";


static int
cmp_take(const void *a, const void *b)
{
	const Take *x = a;
	const Take *y = b;

	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/* Adds units to the take of (owner, key) in t[0..*n). */
static void
add_take(Take *t, int *n, int64 owner, int64 key, int64 units, int64 limit)
{
	for (int i = 0; i < *n; i++)
		if (t[i].owner == owner && t[i].key == key)
		{
			t[i].units += units;
			return;
		}
	t[*n].owner = owner;
	t[*n].key = key;
	t[*n].units = units;
	t[*n].limit = limit;
	(*n)++;
}

static int32 walk_slots_once(Datum order_ref, const char *kind, int64 owner, int32 need, int64 stray_key,
							 bool *skipped);

/*
 * Walks the slots of (kind, owner) in key order, taking their room until
 * units are taken; waits for each lock, except on a slot below stray_key
 * (a slot of a higher key this transaction holds: waiting there could close
 * a cycle with another walker), taken only when no one holds it.  True when
 * every unit is taken (the units taken are recorded either way).
 *
 * A slot below stray_key that another transaction holds may have room that
 * this walk would miss: "sold out" while units are left.  Its holder is a
 * buyer about to commit or roll back, or a walker that found it full and
 * waits on this transaction's stray slot.  So the walk is made again after
 * a millisecond while such a slot was skipped, up to WALK_RETRIES times:
 * the first kind of holder lets go within that time, and the second holds
 * only full slots.
 */
#define WALK_RETRIES 50

static bool
walk_slots(Datum order_ref, const char *kind, int64 owner, int32 units, int64 stray_key)
{
	int32		need = units;

	for (int round = 0;; round++)
	{
		bool		skipped = false;

		need = walk_slots_once(order_ref, kind, owner, need, stray_key, &skipped);
		if (need == 0 || !skipped || round == WALK_RETRIES)
			return need == 0;
		pg_usleep(1000L);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * One walk of walk_slots: returns the units still needed; *skipped when a
 * slot below stray_key was held by another transaction.
 */
static int32
walk_slots_once(Datum order_ref, const char *kind, int64 owner, int32 need, int64 stray_key, bool *skipped)
{
	Datum		args[5];
	int64		keys[64];
	int			nkeys;
	bool		isnull;

	args[0] = CStringGetTextDatum(kind);
	args[1] = Int64GetDatum(owner);
	run(plan_walk_keys, args, NULL, SPI_OK_SELECT, "walking the quota slots");
	nkeys = (int) Min(SPI_processed, 64);
	benefit_require_slots(nkeys, kind);
	for (int i = 0; i < nkeys; i++)
		keys[i] = col_int8(i, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < nkeys && need > 0; i++)
	{
		int64		cap;
		int64		room;
		bool		capnull;
		int32		take;

		args[0] = CStringGetTextDatum(kind);
		args[1] = Int64GetDatum(owner);
		args[2] = Int64GetDatum(keys[i]);
		/* below a slot this transaction holds: never waited for, taken only if free now */
		run(keys[i] < stray_key ? plan_walk_lock_skip : plan_walk_lock, args, NULL, SPI_OK_SELECT,
			"locking a quota slot");
		if (SPI_processed != 1)
		{
			/* removed meanwhile, or below stray_key and held by another */
			if (keys[i] < stray_key)
			{
				args[2] = Int64GetDatum(keys[i]);
				run(plan_walk_exists, args, NULL, SPI_OK_SELECT, "looking at a quota slot");
				*skipped |= SPI_processed == 1;
			}
			continue;
		}
		cap = col_int4(0, 1, &capnull);
		room = capnull ? -1 : Max(cap - col_int4(0, 2, &isnull) - col_int4(0, 3, &isnull), 0);
		SPI_freetuptable(SPI_tuptable);
		take = room < 0 ? need : (int32) Min((int64) need, room);
		if (take <= 0)
			continue;
		args[3] = Int32GetDatum(take);
		run(plan_take, args, NULL, SPI_OK_UPDATE, "taking units");
		{
			Datum		rec[5] = {order_ref, CStringGetTextDatum(kind), Int64GetDatum(owner),
			Int64GetDatum(keys[i]), Int32GetDatum(take)};

			run(plan_record, rec, NULL, SPI_OK_INSERT, "recording the units held");
		}
		need -= take;
	}
	return need;
}

/*
 * Takes units on the 16 slots of (kind, owner) for the order; false when
 * they have no room.  stray_key: the highest slot of (kind, owner) this
 * transaction has locked without taking it, -1 for none.
 */
static bool
take_slots_after(Datum order_ref, const char *kind, int64 owner, int32 units, int64 stray_key)
{
	Datum		args[5];
	bool		isnull;

	if (units <= 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("units must be positive, not %d", units));
	args[0] = order_ref;
	args[1] = CStringGetTextDatum(kind);
	args[2] = Int64GetDatum(owner);
	args[3] = Int32GetDatum(units);
	for (int attempt = 0; attempt < 16; attempt++)
	{
		int64		locked;

		args[4] = Int32GetDatum((int32) pg_prng_uint64_range(&pg_global_prng_state, 0, 15));
		run(plan_try_slot, args, NULL, SPI_OK_SELECT, "taking a quota slot");
		locked = col_int8(0, 1, &isnull);
		if (isnull)
			break;				/* no free slot with room: walk */
		(void) col_int8(0, 2, &isnull);
		if (!isnull)
			return true;
		/* locked, and found full since the snapshot: held until the end, try again */
		stray_key = Max(stray_key, locked);
		SPI_freetuptable(SPI_tuptable);
	}
	return walk_slots(order_ref, kind, owner, units, stray_key);
}

/* Takes units on the 16 slots of (kind, owner) for the order; false when they have no room. */
static bool
take_slots(Datum order_ref, const char *kind, int64 owner, int32 units)
{
	return take_slots_after(order_ref, kind, owner, units, -1);
}

/* Takes units on a per-performance or per-contact counter if the limit leaves room. */
static bool
take_limited(HoldCall *h, const char *kind, int64 owner, int64 key, int64 units, int64 limit)
{
	Datum		args[6];

	if (units > 0 && units > limit)
		return false;
	if (units <= 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("units must be positive, not %d", (int) units));
	args[0] = h->order_ref;
	args[1] = CStringGetTextDatum(kind);
	args[2] = Int64GetDatum(owner);
	args[3] = Int64GetDatum(key);
	args[4] = Int32GetDatum((int32) units);
	args[5] = Int32GetDatum((int32) limit);
	run(plan_limited, args, NULL, SPI_OK_SELECT, "taking units");
	if (SPI_processed == 0)
		return false;
	if (col_bool(0, 1))
	{
		h->made[h->nmade].kind = kind;
		h->made[h->nmade].owner = owner;
		h->made[h->nmade].key = key;
		h->nmade++;
	}
	return true;
}

/* take_promo: one use of the promo code (its slots, the contact's counter) and the discount on its budget. */
static const char *
take_promo(HoldCall *h, int64 promo_id, int64 discount)
{
	Datum		arg = Int64GetDatum(promo_id);
	bool		per_contact_null;
	int64		per_contact;
	bool		budget_null;
	bool		has_budget_slots;

	run(plan_promo_row, &arg, NULL, SPI_OK_SELECT, "reading the promo code");
	if (SPI_processed == 1)
	{
		per_contact = col_int4(0, 1, &per_contact_null);
		(void) col_int8(0, 2, &budget_null);
		has_budget_slots = col_bool(0, 3);
	}
	else
	{
		per_contact_null = budget_null = true;
		per_contact = 0;
		has_budget_slots = false;
	}
	/* counters in the common lock order: its use slots, its per-contact counter, then its budget slots */
	if (!take_slots(h->order_ref, "promo_slot", promo_id, 1))
		return "promo_limit_reached";
	if (!h->contact_null &&
		!take_limited(h, "promo_contact", promo_id, h->contact_id, 1, per_contact_null ? PG_INT32_MAX : per_contact))
		return "promo_contact_limit_reached";
	if (discount > 0)
	{
		if (discount > PG_INT32_MAX)
		{
			if (!budget_null)
				return "promo_budget_reached";	/* more than any budget can be */
			ereport(ERROR,
					errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("promo discount of " INT64_FORMAT " cents is more than a promo code can count", discount),
					errdetail("A promo code counts the discount of one basket up to 2147483647 cents."));
		}
		if (!take_slots(h->order_ref, "promo_budget", promo_id, (int32) discount))
		{
			/* no budget slot at all: a promo code of 0.2.0 never edited since; make them and take again */
			if (budget_null && !has_budget_slots)
			{
				run(plan_spread_budget, &arg, NULL, SPI_OK_SELECT, "making the budget slots");
				if (take_slots(h->order_ref, "promo_budget", promo_id, (int32) discount))
					return NULL;
			}
			return "promo_budget_reached";
		}
	}
	return NULL;
}

/*
 * Takes every counter the basket needs, in the common lock order; NULL, or
 * the reason of a refusal (what was taken is left for undo_hold).
 */
static const char *
take_counters(HoldCall *h)
{
	const PriceCall *call = h->call;
	int			n = call->nlines;
	Take	   *slots = palloc(sizeof(Take) * Max(n, 1));
	Take	   *perfs = palloc(sizeof(Take) * Max(n, 1));
	int			nslots = 0;
	int			nperfs = 0;

	for (int i = 0; i < n; i++)
	{
		const PriceLine *l = &call->lines[i];
		const PriceBenefit *b;

		if (l->chosen < 0)
			continue;
		b = &call->benefits[call->cands[l->chosen].benefit];
		add_take(slots, &nslots, b->id, 0, l->quantity, -1);
		if (b->perf_quota >= 0 && !l->dims.performance_any)
			add_take(perfs, &nperfs, b->id, l->dims.performance_id, l->quantity, b->perf_quota);
	}
	qsort(slots, nslots, sizeof(Take), cmp_take);
	qsort(perfs, nperfs, sizeof(Take), cmp_take);
	h->made = palloc(sizeof(MadeCounter) * (nslots + nperfs + 2));
	h->nmade = 0;

	for (int i = 0; i < nslots; i++)
		if (slots[i].units > 0 && !take_slots(h->order_ref, "benefit_slot", slots[i].owner, (int32) slots[i].units))
			return "quota_exhausted";
	for (int i = 0; i < nperfs; i++)
		if (!take_limited(h, "benefit_performance", perfs[i].owner, perfs[i].key, perfs[i].units, perfs[i].limit))
			return "performance_quota_exhausted";
	if (!h->contact_null && nslots > 0)
	{
		int64	   *ids = palloc(sizeof(int64) * nslots);
		Datum		arg;
		Take	   *lims;
		int			nlims;
		bool		isnull;

		for (int i = 0; i < nslots; i++)
			ids[i] = slots[i].owner;
		arg = benefit_int8_array(ids, NULL, nslots);
		run(plan_contact_limits, &arg, NULL, SPI_OK_SELECT, "reading the limits per contact");
		nlims = (int) SPI_processed;
		lims = palloc(sizeof(Take) * Max(nlims, 1));
		for (int i = 0; i < nlims; i++)
		{
			int64		id = col_int8(i, 1, &isnull);

			lims[i].owner = id;
			lims[i].key = 0;
			lims[i].limit = col_int4(i, 2, &isnull);
			lims[i].units = 0;
			for (int k = 0; k < nslots; k++)
				if (slots[k].owner == id)
					lims[i].units = slots[k].units;
		}
		SPI_freetuptable(SPI_tuptable);
		qsort(lims, nlims, sizeof(Take), cmp_take);
		for (int i = 0; i < nlims; i++)
			if (lims[i].units > 0 &&
				!take_limited(h, "benefit_contact", lims[i].owner, h->contact_id, lims[i].units, lims[i].limit))
				return "contact_quota_exhausted";
	}
	if (call->promo_applied)
		return take_promo(h, call->promo_id, call->discount);
	return NULL;
}

/* Undoes a hold refused late: the units it took given back, the counters it made and its order deleted. */
static void
undo_hold(HoldCall *h)
{
	run(plan_undo_counters, &h->order_ref, NULL, SPI_OK_UPDATE, "giving the units back");
	for (int i = 0; i < h->nmade; i++)
	{
		Datum		args[3] = {CStringGetTextDatum(h->made[i].kind), Int64GetDatum(h->made[i].owner),
		Int64GetDatum(h->made[i].key)};

		run(plan_drop_counter, args, NULL, SPI_OK_DELETE, "giving the units back");
	}
	run(plan_undo_order, &h->order_ref, NULL, SPI_OK_DELETE, "deleting the order");
}

/* The codes the basket applies: text and units (NULL: every unit of its benefit). */
typedef struct HoldCodes
{
	int			n;
	char	  **code;
	int32	   *units;
	bool	   *units_null;
	bool	   *adopted;
} HoldCodes;

static void
applied_codes(const HoldCall *h, HoldCodes *c)
{
	const PriceCall *call = h->call;

	c->n = 0;
	c->code = palloc(sizeof(char *) * Max(call->nbenefits, 1));
	c->units = palloc(sizeof(int32) * Max(call->nbenefits, 1));
	c->units_null = palloc(sizeof(bool) * Max(call->nbenefits, 1));
	c->adopted = palloc(sizeof(bool) * Max(call->nbenefits, 1));
	for (int r = 0; r < call->nbenefits; r++)
	{
		const PriceBenefit *b = &call->benefits[r];
		const PriceBenefit *f = b->first >= 0 ? &call->benefits[b->first] : b;

		if (b->su_code == NULL || b->covered == 0 || strcmp(b->reason, "ok") != 0)
			continue;
		c->code[c->n] = (char *) b->su_code;
		c->units_null[c->n] = f->code_units < 0;
		c->units[c->n] = f->code_units < 0 ? 0 : (int32) b->covered;
		c->adopted[c->n] = false;
		for (int a = 0; a < h->nadopted; a++)
			if (strcmp(h->adopted[a], b->su_code) == 0)
				c->adopted[c->n] = true;
		c->n++;
	}
}

/*
 * Locks the codes in code order and checks that the order can hold them:
 * a code held by an order past its deadline expires that order first (the
 * order tried without waiting: out of the common lock order).  NULL, or the
 * reason of the first code (in code order) that cannot be held.
 */
static const char *
lock_codes_for_hold(HoldCall *h, HoldCodes *c)
{
	Datum		args[2];
	bool		tried_expiry = false;

	args[0] = text_array(c->code, c->n);
	args[1] = int4_array(c->units, c->units_null, c->n);
	for (;;)
	{
		bool		expired_one = false;
		uint64		nrows;
		char	  **due = NULL;
		int			ndue = 0;

		run(plan_read_codes, args, NULL, SPI_OK_SELECT, "locking the codes");
		nrows = SPI_processed;
		if (!tried_expiry)
		{
			due = palloc(sizeof(char *) * Max(nrows, 1));
			for (uint64 i = 0; i < nrows; i++)
			{
				char	   *state = col_text(i, 2, NULL);
				bool		isnull;
				TimestampTz until = col_timestamptz(i, 4, &isnull);

				if (strcmp(state, "held") == 0 && !isnull && until < h->now)
					due[ndue++] = col_text(i, 3, NULL);
			}
			/* expire_hold_of: the order whose hold of the code has passed its deadline */
			for (int k = 0; k < ndue; k++)
			{
				Datum		dargs[2] = {CStringGetTextDatum(due[k]), TimestampTzGetDatum(h->now)};
				OrderRow	o;

				if (lock_order_with(plan_order_due, dargs, &o))
				{
					settle_order(dargs[0], &o, "expired", "hold expired", h->now, false);
					expired_one = true;
				}
			}
			tried_expiry = true;
			if (expired_one)
				continue;		/* read the codes again */
		}
		if (nrows != (uint64) c->n)
			return "held_by_other_order";
		/* the codes come back in code order: keep that order for the writes */
		for (uint64 i = 0; i < nrows; i++)
		{
			char	   *state = col_text(i, 2, NULL);
			bool		isnull;
			TimestampTz until = col_timestamptz(i, 4, &isnull);

			if (!(strcmp(state, "issued") == 0 || (strcmp(state, "held") == 0 && !isnull && until < h->now)))
			{
				if (strcmp(state, "used") == 0)
					return "already_used";
				if (strcmp(state, "invalidated") == 0)
					return "invalidated";
				return "held_by_other_order";
			}
		}
		return NULL;
	}
}

/* Holds the codes (locked and checked), with their history rows and the order's codes. */
static void
write_codes(HoldCall *h, HoldCodes *c)
{
	Datum		args[8];
	char		nulls[8];

	memset(nulls, ' ', sizeof(nulls));
	args[0] = h->order_ref;
	args[1] = text_array(c->code, c->n);
	args[2] = int4_array(c->units, c->units_null, c->n);
	{
		Datum	   *d = palloc(sizeof(Datum) * Max(c->n, 1));

		for (int i = 0; i < c->n; i++)
			d[i] = BoolGetDatum(c->adopted[i]);
		args[3] = PointerGetDatum(construct_array(d, c->n, BOOLOID, 1, true, TYPALIGN_CHAR));
	}
	args[4] = TimestampTzGetDatum(h->held_until);
	args[5] = TimestampTzGetDatum(h->now);
	args[6] = Int64GetDatum(h->contact_id);
	nulls[6] = h->contact_null ? 'n' : ' ';
	args[7] = h->channel;
	nulls[7] = h->channel_null ? 'n' : ' ';
	run(plan_write_codes, args, nulls, SPI_OK_INSERT, "holding the codes");
}

/*
 * Whether the hold is the simplest (READ COMMITTED, one line, its benefit's
 * total quota the only counter: no performance or contact limit, no promo
 * code, no code, no takeover); *slot the units to take.
 */
static bool
simple_hold(const HoldCall *h, const HoldCodes *codes, Take *slot)
{
	const PriceCall *call = h->call;
	const PriceLine *l;
	const PriceBenefit *b;

	if (IsolationUsesXactSnapshot() || call->nlines != 1 || codes->n > 0 || h->nadopted > 0 ||
		call->promo_applied || !h->contact_null)
		return false;
	l = &call->lines[0];
	if (l->chosen < 0 || l->quantity <= 0)
		return false;
	b = &call->benefits[call->cands[l->chosen].benefit];
	if (b->perf_quota >= 0 && !l->dims.performance_any)
		return false;
	slot->owner = b->id;
	slot->key = 0;
	slot->units = l->quantity;
	slot->limit = -1;
	return true;
}

/*
 * Writes the hold of the priced basket h->call: everything or nothing
 * (see the header).  NULL when held, else the reason of the refusal.
 */
static const char *
write_hold(HoldCall *h, bool insert_in_subxact)
{
	HoldCodes	codes;
	const char *reason;
	Take		slot;

	applied_codes(h, &codes);
	if (simple_hold(h, &codes, &slot))
	{
		bool		took;
		int64		locked;

		/* one line, one benefit's total quota, nothing else: one statement */
		if (!insert_order(h, insert_in_subxact, &slot, &took, &locked))
			return order_already_held;
		if (!took && !take_slots_after(h->order_ref, "benefit_slot", slot.owner, (int32) slot.units, locked))
		{
			undo_hold(h);
			return "quota_exhausted";
		}
		return NULL;
	}
	if (!insert_order(h, insert_in_subxact, NULL, NULL, NULL))
		return order_already_held;
	if (codes.n > 0)
	{
		reason = lock_codes_for_hold(h, &codes);
		if (reason != NULL)
		{
			undo_hold(h);
			return reason;
		}
	}
	reason = take_counters(h);
	if (reason != NULL)
	{
		undo_hold(h);
		return reason;
	}
	if (codes.n > 0)
		write_codes(h, &codes);
	if (h->nadopted > 0)
	{
		/* a code the codes order held that the basket did not apply goes back */
		char	  **rest = palloc(sizeof(char *) * h->nadopted);
		int			nrest = 0;

		for (int a = 0; a < h->nadopted; a++)
		{
			bool		applied = false;

			for (int i = 0; i < codes.n; i++)
				if (strcmp(codes.code[i], h->adopted[a]) == 0)
					applied = true;
			if (!applied)
				rest[nrest++] = h->adopted[a];
		}
		if (nrest > 0)
		{
			Datum		args[4];
			char		nulls[4] = {' ', ' ', ' ', h->contact_null ? 'n' : ' '};

			args[0] = h->order_ref;
			args[1] = text_array(rest, nrest);
			args[2] = TimestampTzGetDatum(h->now);
			args[3] = Int64GetDatum(h->contact_id);
			run(plan_not_applied, args, nulls, SPI_OK_INSERT, "recording the codes given back");
		}
	}
	return NULL;
}

/*
 * Prices the basket as a statement of the call would (the pricing's
 * statements are read-only: they read on the active snapshot): on a new
 * snapshot (READ COMMITTED) that sees what this transaction wrote so far,
 * also earlier in the calling statement.
 */
static void
price_now(const PriceInput *in, PriceCall *call)
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	benefit_price_guarded(in, call);
	PopActiveSnapshot();
}

/* The takeover of a held codes order, in a subtransaction. */
typedef struct Takeover
{
	HoldCall   *h;
	PriceInput *in;
	const char *reason;
} Takeover;

/* Gives the codes order back, prices the basket with its codes and holds it; false (rolled back) on a refusal. */
static bool
takeover_run(void *arg)
{
	Takeover   *t = arg;
	HoldCall   *h = t->h;
	OrderRow	o;
	Datum		orders;
	Datum	   *codes;
	int			ncodes = 0;
	int			nentered = 0;
	Datum	   *entered = NULL;
	bool	   *entered_nulls = NULL;

	/* the codes order of hold_code: the basket takes it over, its codes as entered codes */
	run(plan_adopted, &h->order_ref, NULL, SPI_OK_SELECT, "reading the codes order");
	h->nadopted = (int) SPI_processed;
	h->adopted = MemoryContextAlloc(h->call->cxt, sizeof(char *) * Max(h->nadopted, 1));
	for (int i = 0; i < h->nadopted; i++)
		h->adopted[i] = col_text(i, 1, h->call->cxt);
	SPI_freetuptable(SPI_tuptable);

	/* its reservation given back here and made again by the basket, all or nothing */
	orders = one_order(h->order_ref);
	if (!lock_order(h->order_ref, &o))
		elog(ERROR, "the codes order vanished");
	lock_codes(orders, NULL);
	run(plan_lock_counters, &orders, NULL, SPI_OK_SELECT, "locking the counters");
	{
		Datum		sargs[2] = {orders, BoolGetDatum(false)};

		run(plan_settle_many, sargs, NULL, SPI_OK_UPDATE, "giving the units back");
	}
	run(plan_takeover, &h->order_ref, NULL, SPI_OK_DELETE, "giving the codes order back");

	/* the codes as entered, then the order's */
	if (!t->in->codes_null)
		deconstruct_array(DatumGetArrayTypeP(t->in->codes), TEXTOID, -1, false, TYPALIGN_INT,
						  &entered, &entered_nulls, &nentered);
	codes = palloc(sizeof(Datum) * Max(nentered + h->nadopted, 1));
	{
		bool	   *cn = palloc0(sizeof(bool) * Max(nentered + h->nadopted, 1));
		int			dims[1];
		int			lbs[1] = {1};

		for (int i = 0; i < nentered; i++)
		{
			codes[ncodes] = entered[i];
			cn[ncodes++] = entered_nulls[i];
		}
		for (int i = 0; i < h->nadopted; i++)
		{
			codes[ncodes] = CStringGetTextDatum(h->adopted[i]);
			cn[ncodes++] = false;
		}
		dims[0] = ncodes;
		t->in->codes = PointerGetDatum(construct_md_array(codes, cn, 1, dims, lbs, TEXTOID, -1, false,
														  TYPALIGN_INT));
		t->in->codes_null = false;
	}
	/* priced on a snapshot that sees the codes and units given back above */
	price_now(t->in, h->call);
	t->reason = write_hold(h, false);
	return t->reason == NULL;
}

/* now + interval '7 days', in the session's time zone as SQL adds it */
static TimestampTz
seven_days_after(TimestampTz now)
{
	Interval	week = {0};

	week.day = 7;
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(now),
												   PointerGetDatum(&week)));
}

/* Marks a hold of an order reference that was found held already, before the pricing. */
static const char order_already_held_found[] = "order_already_held";

/* Marks an order reference not held yet (held_already). */
static const char no_order[] = "";

/*
 * The order of reference h->order_ref, locked, if there is one: no_order
 * when there is none; else the outcome of the hold: the takeover of a held codes
 * order (NULL when held, else the refusal), or order_already_held (priced
 * with the codes as given: priced here when not yet, and then reported as
 * order_already_held_found).
 */
static const char *
held_already(HoldCall *h, PriceInput *in, TimestampTz now, bool price)
{
	char	   *kind;
	char	   *state;
	TimestampTz until;
	bool		isnull;

	run(plan_hold_order, &h->order_ref, NULL, SPI_OK_SELECT, "locking the order");
	if (SPI_processed != 1)
		return price ? no_order : order_already_held;	/* not visible: a concurrent call's */
	kind = col_text(0, 1, NULL);
	state = col_text(0, 2, NULL);
	until = col_timestamptz(0, 3, &isnull);
	if (!(strcmp(kind, "codes") == 0 && strcmp(state, "held") == 0 && until >= now))
	{
		if (!price)
			return order_already_held;
		price_now(in, h->call);
		return order_already_held_found;
	}
	else
	{
		/* the takeover of a held codes order: rare, in a subtransaction */
		Takeover	t = {h, in, NULL};

		if (!benefit_in_subxact(takeover_run, &t, 0))
			return t.reason;
		return NULL;
	}
}

/* Whether codes (text[]) has an entry that is not NULL or blank. */
static bool
codes_entered(Datum codes, bool codes_null)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (codes_null)
		return false;
	deconstruct_array(DatumGetArrayTypeP(codes), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		text	   *t;
		const char *p;
		int			len;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(elems[i]);
		p = VARDATA_ANY(t);
		len = VARSIZE_ANY_EXHDR(t);
		for (int k = 0; k < len; k++)
			if (p[k] != ' ')
				return true;
	}
	return false;
}

/*
 * The types of hold's result (benefit.priced_basket and its parts), kept
 * for one function OID until benefit_catalog_epoch() says the catalogs
 * changed.
 */
static void
hold_types(FunctionCallInfo fcinfo, BasketTypes *types)
{
	static BasketTypes kept;
	static Oid	kept_fn = InvalidOid;
	static uint64 kept_epoch = 0;
	uint64		epoch = benefit_catalog_epoch();

	if (kept_fn != fcinfo->flinfo->fn_oid || kept_epoch != epoch)
	{
		MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);

		basket_types_of(get_func_rettype(fcinfo->flinfo->fn_oid), &kept);
		MemoryContextSwitchTo(old);
		kept_fn = fcinfo->flinfo->fn_oid;
		kept_epoch = epoch;
	}
	*types = kept;
}

PG_FUNCTION_INFO_V1(benefit_hold);

/*
 * benefit.hold(order_ref, lines, contact_id, channel, held_until, codes,
 *              promo_code, point_of_sale, client_key)
 */
Datum
benefit_hold(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTimestamp();	/* the call's instant */
	BasketTypes types;
	PriceCall  *call = palloc0(sizeof(PriceCall));
	PriceInput	in;
	HoldCall	h;
	const char *reason;
	Datum		result;

	hold_types(fcinfo, &types);
	benefit_require_writable("benefit.hold()");
	benefit_check_order_ref(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	if (PG_ARGISNULL(4) || PG_GETARG_TIMESTAMPTZ(4) <= now ||
		PG_GETARG_TIMESTAMPTZ(4) > seven_days_after(now))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("held_until must be in the next 7 days"),
				errdetail("held_until was %s, the call's instant %s.",
						  PG_ARGISNULL(4) ? "NULL" :
						  DatumGetCString(DirectFunctionCall1(timestamptz_out, PG_GETARG_DATUM(4))),
						  DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(now)))));

	memset(&h, 0, sizeof(h));
	h.order_ref = PG_GETARG_DATUM(0);
	h.contact_null = PG_ARGISNULL(2);
	h.contact_id = h.contact_null ? 0 : PG_GETARG_INT64(2);
	h.channel_null = PG_ARGISNULL(3);
	h.channel = h.channel_null ? (Datum) 0 : PG_GETARG_DATUM(3);
	h.point_of_sale_null = PG_ARGISNULL(7);
	h.point_of_sale = h.point_of_sale_null ? (Datum) 0 : PG_GETARG_DATUM(7);
	h.held_until = PG_GETARG_TIMESTAMPTZ(4);
	h.now = now;
	h.call = call;

	in.lines = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	in.lines_null = PG_ARGISNULL(1);
	in.contact_id = h.contact_id;
	in.contact_null = h.contact_null;
	in.channel = h.channel;
	in.channel_null = h.channel_null;
	in.point_of_sale = h.point_of_sale;
	in.point_of_sale_null = h.point_of_sale_null;
	in.at = now;
	in.codes = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	in.codes_null = PG_ARGISNULL(5);
	in.promo_code = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
	in.promo_code_null = PG_ARGISNULL(6);
	in.client_key = PG_ARGISNULL(8) ? NULL : PG_GETARG_TEXT_PP(8);
	call->cxt = CurrentMemoryContext;

	begin_call();
	benefit_plans_get(&hold_plans, benefit_code_type_oid(), make_hold_plans);
	benefit_plans_get(&counter_plans, benefit_code_type_oid(), make_counter_plans);

	if (!IsolationUsesXactSnapshot() && !codes_entered(in.codes, in.codes_null))
	{
		/*
		 * READ COMMITTED, no code entered (the pricing then neither reads
		 * nor counts wrong codes): priced first, the order inserted; only
		 * when the reference is held already is its row locked and looked
		 * at, as below.  The same outcome as locking it first: no lock is
		 * taken before the insert either way (a row being inserted by
		 * another call is not locked by a SELECT ... FOR UPDATE, which
		 * does not see it).
		 */
		price_now(&in, call);
		reason = write_hold(&h, false);
		if (reason == order_already_held)
			reason = held_already(&h, &in, now, false);
	}
	else
	{
		/*
		 * the lock order of every runtime call: the order row, single-use
		 * codes (by code), then counters (by kind, owner, key)
		 */
		reason = held_already(&h, &in, now, true);
		if (reason == no_order)
		{
			price_now(&in, call);
			reason = write_hold(&h, IsolationUsesXactSnapshot());
		}
		else if (reason == order_already_held_found)
			reason = order_already_held;
	}
	end_call();
	if (reason != NULL)
		result = basket_priced(&types, call, reason, (Datum) 0, false, 0);
	else
		result = basket_priced(&types, call, "ok", h.order_ref, true, h.held_until);
	PG_RETURN_DATUM(result);
}
