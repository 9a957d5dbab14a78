/*-------------------------------------------------------------------------
 *
 * redeem.c
 *		benefit.redeem_code: use a single-use code in one call.
 *
 * Since 0.3.0 (benefit_redeem_order, at the end of this file) a redemption
 * is a one-call order of the ledger, on the one rule of src/use_rule.c.
 * The first part of the file, benefit_redeem_code, is the redeem_code of
 * the databases not yet updated to 0.3.0, whose scripts name it: a database
 * installed at 0.1.0 or 0.2.0 keeps redeeming as it did until ALTER
 * EXTENSION benefit UPDATE replaces it.  Remove that part when those
 * releases are no longer installable.  What follows describes it.
 *
 * The common case (an issued code of a live benefit, in its window and on
 * its channel) is one statement: a conditional UPDATE ... WHERE state =
 * 'issued' that also writes the history row.  Exactly-once comes from the
 * row lock that UPDATE takes: concurrent callers queue on it, and when the
 * first commits the others re-check the row, find it used and update
 * nothing.  Whenever nothing was updated, the slow path locks the row
 * (SELECT ... FOR UPDATE) and works out the reason, or uses a code held by
 * this very order.  Business refusals are results with a benefit.reason,
 * never errors; only bad input raises.
 * Every use is appended to benefit.code_history in the same transaction.
 * All statements are prepared once per backend and kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "config.h"
#include "read_only.h"
#include "reason.h"
#include "sale.h"
#include "search_path.h"
#include "spi_util.h"
#include "throttle.h"
#include "use_rule.h"

static BenefitPlans plans;
static SPIPlanPtr plan_fast;
static SPIPlanPtr plan_fast_channel;
static SPIPlanPtr plan_lock;
static SPIPlanPtr plan_channel;
static SPIPlanPtr plan_use;
static SPIPlanPtr plan_history;

/* Prepares the statements of this file for type code_type (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_lock[1];
	Oid			t_channel[2] = {TEXTOID, INT8OID};
	Oid			t_use[4];
	Oid			t_history[6];
	Oid			t_fast[6];

	t_lock[0] = code_type;
	t_use[0] = code_type;
	t_use[1] = TIMESTAMPTZOID;
	t_use[2] = INT8OID;
	t_use[3] = TEXTOID;
	t_history[0] = code_type;
	t_history[1] = TEXTOID;
	t_history[2] = TIMESTAMPTZOID;
	t_history[3] = TEXTOID;
	t_history[4] = INT8OID;
	t_history[5] = TEXTOID;
	t_fast[0] = code_type;
	t_fast[1] = TIMESTAMPTZOID;
	t_fast[2] = INT8OID;
	t_fast[3] = TEXTOID;
	t_fast[4] = TEXTOID;
	t_fast[5] = TEXTOID;

	/*
	 * The common case in one statement: an issued code of a live benefit,
	 * in its window, on one of its channels, is used and its history row
	 * written.  No row back means "not that simple": the slow path below
	 * locks the row and finds the reason (or uses a code held by this order).
	 *
	 * A bad reference (an unknown channel, point of sale or contact, a point
	 * of sale of another channel) fails the statement's conditions, so that
	 * the slow path raises its error (benefit_check_sale).  The contact
	 * and point-of-sale conditions do not depend on the code's row: the
	 * planner runs them once, before the UPDATE reads anything.
	 *
	 * Two versions: without a channel and a point of sale ($5 and $6 NULL)
	 * the channel and point-of-sale conditions are true, but a generic plan
	 * still has to start (open, lock and initialise) their index scans on
	 * every execution, never run.  plan_fast leaves them out;
	 * plan_fast_channel is the full statement.  Both take the same six
	 * parameters ($6 unused by plan_fast), so that the caller passes the
	 * same values to either.
	 */
#define FAST_UPDATE \
		"WITH u AS (" \
		" UPDATE benefit.single_use_code c" \
		"    SET state = 'used', used_at = $2, used_by_contact = $3, used_order = $4" \
		"   FROM benefit.benefit b" \
		"  WHERE c.code OPERATOR(benefit.=) $1 AND c.state = 'issued'" \
		"    AND b.benefit_id = c.benefit_id AND b.status = 'live'" \
		"    AND (b.valid_from IS NULL OR b.valid_from <= $2)" \
		"    AND (b.valid_until IS NULL OR b.valid_until > $2)" \
		"    AND ($3::pg_catalog.int8 IS NULL" \
		"         OR EXISTS (SELECT 1 FROM benefit.contact ct WHERE ct.contact_id = $3))"
#define FAST_HISTORY \
		" RETURNING c.code, c.benefit_id, b.code AS benefit_code" \
		"), h AS (" \
		" INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel)" \
		" SELECT u.code, 'issued', 'used', $2, $4, $3, $5 FROM u" \
		") SELECT u.benefit_id, u.benefit_code FROM u"

	plan_fast = benefit_plans_keep(set, FAST_UPDATE FAST_HISTORY, 6, t_fast);
	plan_fast_channel = benefit_plans_keep(set,
		FAST_UPDATE
		"    AND ($5::pg_catalog.text IS NULL OR ("
		"         EXISTS (SELECT 1 FROM benefit.sales_channel sc WHERE sc.code = $5)"
		"         AND (b.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc"
		"                                      JOIN benefit.sales_channel sc ON sc.channel_id = bc.channel_id"
		"                                     WHERE bc.benefit_id = b.benefit_id AND sc.code = $5))"
		"         AND (b.point_of_sale_id IS NULL"
		"              OR EXISTS (SELECT 1 FROM benefit.sales_channel sc WHERE sc.code = $5 AND sc.kind <> 'web')"
		"              OR EXISTS (SELECT 1 FROM benefit.point_of_sale p"
		"                          WHERE p.point_of_sale_id = b.point_of_sale_id AND p.code = $6))))"
		"    AND ($6::pg_catalog.text IS NULL"
		"         OR EXISTS (SELECT 1 FROM benefit.point_of_sale p"
		"                     WHERE p.code = $6 AND ($5::pg_catalog.text IS NULL"
		"                                            OR p.channel_id = (SELECT sc.channel_id FROM benefit.sales_channel sc"
		"                                                                WHERE sc.code = $5))))"
		FAST_HISTORY,
		6, t_fast);
#undef FAST_UPDATE
#undef FAST_HISTORY

	plan_lock = benefit_plans_keep(set,
		"SELECT c.state::pg_catalog.text, c.hold_order, c.hold_until, c.benefit_id, "
		"       b.status::pg_catalog.text, b.valid_from, b.valid_until, b.all_channels, "
		"       p.code, b.code "
		"FROM benefit.single_use_code c "
		"JOIN benefit.benefit b ON b.benefit_id = c.benefit_id "
		"LEFT JOIN benefit.point_of_sale p ON p.point_of_sale_id = b.point_of_sale_id "
		"WHERE c.code OPERATOR(benefit.=) $1 FOR UPDATE OF c",
		1, t_lock);
	plan_channel = benefit_plans_keep(set,
		"SELECT sc.kind::pg_catalog.text, "
		"       EXISTS (SELECT 1 FROM benefit.benefit_channel bc "
		"                WHERE bc.benefit_id = $2 AND bc.channel_id = sc.channel_id) "
		"FROM benefit.sales_channel sc WHERE sc.code = $1",
		2, t_channel);
	plan_use = benefit_plans_keep(set,
		"UPDATE benefit.single_use_code SET state = 'used', used_at = $2, used_by_contact = $3, "
		"       used_order = $4, hold_order = NULL, hold_until = NULL "
		"WHERE code OPERATOR(benefit.=) $1",
		4, t_use);
	plan_history = benefit_plans_keep(set,
		"INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel) "
		"VALUES ($1, $2::benefit.code_state, 'used', $3, $4, $5, $6)",
		6, t_history);
}

/*
 * The result type and the reason type, looked up once per backend rather
 * than on every call (get_call_result_type reads pg_proc and copies the row
 * type): kept for one function OID, until benefit_catalog_epoch() says
 * pg_type, pg_namespace or pg_enum changed, as after DROP EXTENSION /
 * CREATE EXTENSION in the same backend.
 */
static uint64 types_epoch = 0;
static Oid	types_fn_oid = InvalidOid;
static Oid	result_type = InvalidOid;
static Oid	reason_type = InvalidOid;

/* Returns the OID of the row type the called function returns. */
static Oid
redemption_type(FunctionCallInfo fcinfo)
{
	uint64		epoch = benefit_catalog_epoch();
	TupleDesc	resdesc;

	if (types_epoch == epoch && types_fn_oid == fcinfo->flinfo->fn_oid &&
		OidIsValid(result_type))
		return result_type;
	if (get_call_result_type(fcinfo, NULL, &resdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "redeem_code must return a composite type");
	result_type = resdesc->tdtypeid;
	reason_type = TupleDescAttr(resdesc, 0)->atttypid;
	types_fn_oid = fcinfo->flinfo->fn_oid;
	types_epoch = epoch;
	return result_type;
}

/*
 * Returns the benefit.redemption row of values and nulls.  The row type
 * comes from the type cache, which follows ALTER TYPE; it is named, so it
 * needs no BlessTupleDesc.
 */
static Datum
redemption_datum(Oid rowtype, Datum *values, bool *nulls)
{
	TupleDesc	resdesc = lookup_rowtype_tupdesc(rowtype, -1);
	HeapTuple	tuple = heap_form_tuple(resdesc, values, nulls);

	ReleaseTupleDesc(resdesc);
	return HeapTupleGetDatum(tuple);
}

/* What the slow path of one call works on. */
typedef struct RedeemCall
{
	Datum		code;
	Datum		order_ref;
	const char *order_str;
	bool		contact_null;
	Datum		contact_id;
	char	   *channel;		/* NULL: none given */
	char	   *pos;			/* NULL: none given */
	TimestampTz now;
} RedeemCall;

/* The code's row as plan_lock reads it (locked). */
typedef struct LockedCode
{
	char	   *state;
	char	   *hold_order;
	bool		hold_until_null;
	TimestampTz hold_until;
	int64		benefit_id;
	char	   *status;			/* the benefit's */
	bool		from_null;
	TimestampTz valid_from;
	bool		until_null;
	TimestampTz valid_until;
	bool		all_channels;
	char	   *pos_code;		/* the benefit's point of sale, or NULL */
	char	   *benefit_code;
} LockedCode;

/* Reads row 0 of plan_lock's result. */
static void
read_locked(LockedCode *c)
{
	bool		isnull;

	c->state = col_text(0, 1, NULL);
	c->hold_order = col_text(0, 2, NULL);
	c->hold_until = col_timestamptz(0, 3, &c->hold_until_null);
	c->benefit_id = col_int8(0, 4, &isnull);
	c->status = col_text(0, 5, NULL);
	c->valid_from = col_timestamptz(0, 6, &c->from_null);
	c->valid_until = col_timestamptz(0, 7, &c->until_null);
	c->all_channels = col_bool(0, 8);
	c->pos_code = col_text(0, 9, NULL);
	c->benefit_code = col_text(0, 10, NULL);
}

/*
 * Why the locked code c cannot be used by this call, or "ok": its state
 * (held by another order until a deadline not yet passed), its benefit's
 * status and window, the channel and point of sale of the call.
 */
static const char *
locked_reason(const RedeemCall *rc, const LockedCode *c)
{
	Datum		args[2];
	int			ret;
	char	   *kind;

	if (strcmp(c->state, "invalidated") == 0)
		return "invalidated";
	if (strcmp(c->state, "used") == 0)
		return "already_used";
	if (strcmp(c->state, "held") == 0 && strcmp(c->hold_order, rc->order_str) != 0 &&
		!c->hold_until_null && c->hold_until >= rc->now)
		return "held_by_other_order";
	if (strcmp(c->status, "live") != 0)
		return "benefit_not_live";
	if (!c->from_null && c->valid_from > rc->now)
		return "not_yet_valid";
	if (!c->until_null && c->valid_until <= rc->now)
		return "expired";
	if (rc->channel == NULL)
		return "ok";

	args[0] = CStringGetTextDatum(rc->channel);
	args[1] = Int64GetDatum(c->benefit_id);
	ret = SPI_execute_plan(plan_channel, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up the channel failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("sales channel \"%s\" does not exist", rc->channel));
	kind = col_text(0, 1, NULL);
	if (!c->all_channels && !col_bool(0, 2))
		return "wrong_channel";
	if (strcmp(kind, "web") == 0 && c->pos_code != NULL &&
		(rc->pos == NULL || strcmp(rc->pos, c->pos_code) != 0))
		return "wrong_point_of_sale";
	return "ok";
}

/* Uses the locked code c (issued, or held by this order) and appends its history row. */
static void
use_locked(const RedeemCall *rc, const LockedCode *c)
{
	Datum		args[6];
	char		argnulls[6];
	int			ret;

	args[0] = rc->code;
	args[1] = TimestampTzGetDatum(rc->now);
	args[2] = rc->contact_id;
	args[3] = rc->order_ref;
	memset(argnulls, ' ', sizeof(argnulls));
	argnulls[2] = rc->contact_null ? 'n' : ' ';
	ret = SPI_execute_plan(plan_use, args, argnulls, false, 0);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "using the code failed: %s", SPI_result_code_string(ret));

	args[0] = rc->code;
	args[1] = CStringGetTextDatum(c->state);
	args[2] = TimestampTzGetDatum(rc->now);
	args[3] = rc->order_ref;
	args[4] = rc->contact_id;
	args[5] = rc->channel ? CStringGetTextDatum(rc->channel) : (Datum) 0;
	memset(argnulls, ' ', sizeof(argnulls));
	argnulls[4] = rc->contact_null ? 'n' : ' ';
	argnulls[5] = rc->channel ? ' ' : 'n';
	ret = SPI_execute_plan(plan_history, args, argnulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "recording the use failed: %s", SPI_result_code_string(ret));
}

/*
 * The slow path, when the one-statement use updated nothing: locks the
 * code's row and works out the reason, or uses a code this order holds.
 * Fills values[2..4] (benefit id and code, used_at) and returns the reason.
 */
static const char *
redeem_locked(const RedeemCall *rc, Datum *values, bool *nulls)
{
	Datum		args[1];
	int			ret;
	LockedCode	c;
	const char *reason;

	args[0] = rc->code;
	ret = SPI_execute_plan(plan_lock, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up the code failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return "unknown_code";

	read_locked(&c);
	values[2] = Int64GetDatum(c.benefit_id);
	nulls[2] = false;
	values[3] = CStringGetTextDatum(c.benefit_code);
	nulls[3] = false;
	reason = locked_reason(rc, &c);
	if (strcmp(reason, "ok") == 0)
	{
		use_locked(rc, &c);
		values[4] = TimestampTzGetDatum(rc->now);
		nulls[4] = false;
	}
	return reason;
}

PG_FUNCTION_INFO_V1(benefit_redeem_code);

/* Checks and uses a single-use code for an order; returns a benefit.redemption. */
Datum
benefit_redeem_code(PG_FUNCTION_ARGS)
{
	Oid			rowtype;
	Datum		values[5];
	bool		nulls[5] = {false, true, true, true, true};
	const char *reason;
	bool		contact_null = PG_ARGISNULL(1);
	int64		contact_id = contact_null ? 0 : PG_GETARG_INT64(1);
	text	   *client_key = PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5);
	RedeemCall	rc;
	Datum		args[6];
	char		argnulls[6];
	bool		isnull;
	int			ret;
	BenefitSale sale;

	rowtype = redemption_type(fcinfo);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("code must not be NULL"));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("order_ref must not be NULL"),
				errdetail("A code is used for an order: pass its reference."));
	benefit_require_writable("benefit.redeem_code()");
	rc.code = PG_GETARG_DATUM(0);
	rc.order_ref = PG_GETARG_DATUM(2);
	rc.order_str = TextDatumGetCString(rc.order_ref);
	benefit_check_order_ref(DatumGetTextPP(rc.order_ref));
	rc.contact_null = contact_null;
	rc.contact_id = contact_null ? (Datum) 0 : PG_GETARG_DATUM(1);
	rc.channel = NULL;
	rc.pos = NULL;
	rc.now = GetCurrentTransactionStartTimestamp();
	values[1] = rc.code;
	nulls[1] = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* an error unwinds the pushed path with the (sub)transaction */
	benefit_push_search_path();
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);

	/*
	 * Throttling first: a contact or client key with too many wrong codes in
	 * the window gets "throttled" whatever it types (a right guess too).
	 */
	if (benefit_throttle_check(!contact_null, contact_id, client_key))
	{
		values[0] = benefit_reason_datum(reason_type, "throttled");
		benefit_pop_search_path();
		SPI_finish();
		PG_RETURN_DATUM(redemption_datum(rowtype, values, nulls));
	}

	args[0] = rc.code;
	args[1] = TimestampTzGetDatum(rc.now);
	args[2] = rc.contact_id;
	args[3] = rc.order_ref;
	/* text arguments go to SPI as they came: no copy on the common path */
	args[4] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	args[5] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	memset(argnulls, ' ', sizeof(argnulls));
	argnulls[2] = contact_null ? 'n' : ' ';
	argnulls[4] = PG_ARGISNULL(3) ? 'n' : ' ';
	argnulls[5] = PG_ARGISNULL(4) ? 'n' : ' ';
	ret = SPI_execute_plan(PG_ARGISNULL(3) && PG_ARGISNULL(4) ? plan_fast : plan_fast_channel,
						   args, argnulls, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "using the code failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		values[2] = Int64GetDatum(col_int8(0, 1, &isnull));
		nulls[2] = false;
		values[3] = col_datum_copy(0, 2, &isnull);
		nulls[3] = false;
		values[4] = TimestampTzGetDatum(rc.now);
		nulls[4] = false;
		values[0] = benefit_reason_datum(reason_type, "ok");
		benefit_pop_search_path();
		SPI_finish();
		PG_RETURN_DATUM(redemption_datum(rowtype, values, nulls));
	}

	/*
	 * The slow path: the references first (an unknown channel, point of
	 * sale or contact is an error, whatever the code), then the code's row.
	 */
	benefit_check_sale(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), PG_ARGISNULL(3),
					   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), PG_ARGISNULL(4),
					   rc.contact_id, contact_null, false, false, &sale);

	/* the slow path compares and reports the channel and point of sale */
	if (!PG_ARGISNULL(3))
		rc.channel = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (!PG_ARGISNULL(4))
		rc.pos = text_to_cstring(PG_GETARG_TEXT_PP(4));
	reason = redeem_locked(&rc, values, nulls);

	/* a code that does not exist counts against the contact and the client key */
	if (strcmp(reason, "unknown_code") == 0)
		benefit_throttle_count(!contact_null, contact_id, client_key, 1);

	values[0] = benefit_reason_datum(reason_type, reason);
	/* values built from SPI results must outlive SPI_finish */
	if (!nulls[3])
		values[3] = SPI_datumTransfer(values[3], false, -1);
	benefit_pop_search_path();
	SPI_finish();
	PG_RETURN_DATUM(redemption_datum(rowtype, values, nulls));
}

/*
 * ----------------------------------------------------------------------
 * benefit.redeem_code since 0.3.0: a one-call order of the ledger.
 *
 * The common case, in C: the sale's references checked on the session's
 * configuration cache (config.c, sale.c), the code's row read with whether
 * the contact exists (statement 1), the one use rule applied on the
 * benefit's cached facts (use_rule.c), then every write of the order in one
 * statement (statement 2), in the common lock order: the code used (if
 * still issued), then one unit per code unit on a quota slot with room,
 * one no other transaction holds if there is one (SKIP LOCKED, from a
 * random one), else one it waits for; the order confirmed at once with its
 * record of the units and its code, and the code's history row.  Each write
 * takes its rows from the one before, and the statement reports how far it
 * went.  No subtransaction: what it wrote when it went only part of the way
 * is put back by one statement (statement 3: the code issued again, the
 * slot's unit given back).  That is rare: a slot that filled between the
 * statement's snapshot and its lock, or the same order reference made by a
 * concurrent call.  PostgreSQL keeps the lock of such a full slot until the
 * transaction ends, out of the common order, so from then on the call never
 * waits on a slot: it tries the statement that never waits again until it
 * takes a slot or no slot has room (quota_exhausted), see write_order_fast.
 * Whatever is not that simple (a throttled caller, an unknown or unusable
 * code, an existing order, a per-contact limit, no slot with room) goes to
 * benefit_internal.code_order, the PL/pgSQL of every code call, which
 * decides the reason (the same rule) or takes the units the slow way.
 * Business refusals are results, only bad input raises.
 * ----------------------------------------------------------------------
 */

static BenefitPlans order_plans;
static SPIPlanPtr plan_code_row;
static SPIPlanPtr plan_use_order;
static SPIPlanPtr plan_use_order_nowait;
static SPIPlanPtr plan_undo_use;
static SPIPlanPtr plan_room;
static SPIPlanPtr plan_code_order;

/*
 * The parts of statement 2 (both forms): the code used if still issued (CTE
 * u), and, after the slot (CTE s), the order confirmed at once (%s: what
 * its insert does on a conflict of its key), its record of the units, its
 * code and the code's history; the result says how far it went (the code
 * used, the slot's key, the history written, and the key of the slot
 * statement 2 locked, which it may have found full: second %s).
 */
static const char *const use_code =
	"WITH u AS ("
	"    UPDATE benefit.single_use_code c "
	"       SET state = 'used', used_at = $8, used_by_contact = $5, used_order = $4, "
	"           hold_order = NULL, hold_until = NULL "
	"     WHERE c.code OPERATOR(benefit.=) $1 AND c.state = 'issued' "
	"    RETURNING c.code"
	")";
/*
 * Statement 2's slot: the keys of the slots with room in the statement's
 * snapshot (room, fixed: a row locked and rechecked after another buyer
 * changed it is kept, and returned, although it may have no room left),
 * one of them no other transaction holds (f, SKIP LOCKED, from a random
 * one), or, in the statement that may wait, one it waits for (w); the
 * slot locked (l) is taken if its current row has room (s).  First %s:
 * the code used; second: w and l.
 */
static const char *const slot_writes =
	"%s, room AS ("
	"    SELECT ARRAY(SELECT g.key FROM benefit.counter g "
	"                  WHERE g.kind = 'benefit_slot' AND g.owner_id = $2 "
	"                    AND (g.cap IS NULL OR g.held + g.used + $3 <= g.cap)) AS keys"
	"), f AS ("
	"    SELECT f.key FROM benefit.counter f "
	"     WHERE f.kind = 'benefit_slot' AND f.owner_id = $2 "
	"       AND f.key OPERATOR(pg_catalog.=) ANY ((SELECT room.keys FROM room)::pg_catalog.int8[]) "
	"       AND EXISTS (SELECT 1 FROM u) "
	"     ORDER BY (f.key + $9) %% 16 LIMIT 1 "
	"       FOR NO KEY UPDATE SKIP LOCKED"
	"), %s"
	"s AS ("
	"    UPDATE benefit.counter k SET used = k.used + $3 "
	"      FROM l "
	"     WHERE k.kind = 'benefit_slot' AND k.owner_id = $2 AND k.key = l.key "
	"       AND (k.cap IS NULL OR k.held + k.used + $3 <= k.cap) "
	"    RETURNING k.key"
	")%s";

static const char *const order_writes =
	", o AS ("
	"    INSERT INTO benefit.order_hold (order_ref, kind, state, contact_id, channel, point_of_sale, held_until, "
	"                                    base_cents, lines_cents, promo_discount_cents, total_cents, "
	"                                    created_at, closed_at, closed_by) "
	"    SELECT $4, 'codes', 'confirmed', $5, $6, $7, $8, 0, 0, 0, 0, $8, $8, SESSION_USER FROM s "
	"%s"
	"    RETURNING order_ref"
	"), r AS ("
	"    INSERT INTO benefit.order_hold_counter (order_ref, kind, owner_id, key, units) "
	"    SELECT o.order_ref, 'benefit_slot', $2, s.key, $3 FROM o, s"
	"), oc AS ("
	"    INSERT INTO benefit.order_code (order_ref, code, units) SELECT o.order_ref, $1, $3 FROM o"
	"), h AS ("
	"    INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel) "
	"    SELECT u.code, 'issued', 'used', $8, $4, $5, $6 FROM u, o "
	"    RETURNING 1"
	") "
	"SELECT (SELECT pg_catalog.count(*) FROM u), (SELECT s.key FROM s), (SELECT pg_catalog.count(*) FROM h), "
	"       %s";

/* Prepares the statements of the order path for type code_type (the plan rule of spi_util.h). */
static void
make_order_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_use[9] = {code_type, INT8OID, INT4OID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	INT4OID};
	Oid			t_slow[7] = {code_type, TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TIMESTAMPTZOID};
	Oid			t_undo[4] = {code_type, INT8OID, INT8OID, INT4OID};
	Oid			t_row[2] = {code_type, INT8OID};
	Oid			t_room[2] = {INT8OID, INT4OID};

	/*
	 * statement 2: every write of the order, each from the one before, in
	 * the common lock order: the code first (still issued: else a
	 * concurrent call used, held or invalidated it since statement 1, and
	 * nothing is written), then a slot with room no one holds, never
	 * waiting; the order (a concurrent call that made the same order
	 * reference meanwhile: nothing), its records; the result says how far
	 * it went: the code used, the slot's key, the history written
	 */
	plan_use_order = benefit_plans_keep(set, psprintf(slot_writes, use_code,
		"w AS ("
		"    SELECT w.key FROM benefit.counter w "
		"     WHERE w.kind = 'benefit_slot' AND w.owner_id = $2 "
		"       AND w.key OPERATOR(pg_catalog.=) ANY ((SELECT room.keys FROM room)::pg_catalog.int8[]) "
		"       AND EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM f) "
		"     ORDER BY (w.key + $9) % 16 LIMIT 1 "
		"       FOR NO KEY UPDATE"
		"), l AS (SELECT f.key FROM f UNION ALL SELECT w.key FROM w), ",
		psprintf(order_writes, "    ON CONFLICT (order_ref) DO NOTHING ", "(SELECT l.key FROM l)")),
		9, t_use);

	/* statement 2 that never waits: the slot with room no one holds, or none */
	plan_use_order_nowait = benefit_plans_keep(set, psprintf(slot_writes, use_code,
		"l AS (SELECT f.key FROM f), ",
		psprintf(order_writes, "    ON CONFLICT (order_ref) DO NOTHING ", "(SELECT l.key FROM l)")),
		9, t_use);

	/*
	 * statement 3: puts back what a statement 2 that went only part of the
	 * way wrote: the code issued again ($1) and, when it took one ($2 the
	 * slot's key, NULL for none), the slot's unit ($4 units of benefit $3)
	 */
	plan_undo_use = benefit_plans_keep(set,
		"WITH c AS ("
		"    UPDATE benefit.single_use_code c "
		"       SET state = 'issued', used_at = NULL, used_by_contact = NULL, used_order = NULL "
		"     WHERE c.code OPERATOR(benefit.=) $1 AND c.state = 'used' "
		"    RETURNING 1"
		") "
		"UPDATE benefit.counter k SET used = k.used - $4 "
		" WHERE k.kind = 'benefit_slot' AND k.owner_id = $3 AND k.key = $2 "
		"   AND (SELECT pg_catalog.count(*) FROM c) = 1",
		4, t_undo);

	/*
	 * statement 1: the code's own row, and
	 * whether the contact $2 exists (true for none); the benefit's facts
	 * come from the cache (config.h)
	 */
	plan_code_row = benefit_plans_keep(set,
		"SELECT c.state::pg_catalog.text, c.hold_order, c.hold_until, c.benefit_id, "
		"       $2::pg_catalog.int8 IS NULL "
		"       OR EXISTS (SELECT 1 FROM benefit.contact k WHERE k.contact_id = $2) "
		"  FROM benefit.single_use_code c "
		" WHERE c.code OPERATOR(benefit.=) $1",
		2, t_row);

	/* whether a slot of benefit $1 still has room for $2 units (on the latest commit) */
	plan_room = benefit_plans_keep(set,
		"SELECT EXISTS (SELECT 1 FROM benefit.counter k "
		"                WHERE k.kind = 'benefit_slot' AND k.owner_id = $1 "
		"                  AND (k.cap IS NULL OR k.held + k.used + $2 <= k.cap))",
		2, t_room);

	/* everything else: the code call of the ledger, in PL/pgSQL */
	plan_code_order = benefit_plans_keep(set,
		"SELECT r.reason::pg_catalog.text, r.benefit_id, r.benefit_code, r.used_at "
		"  FROM benefit_internal.code_order($1, $2, NULL, $3, $4, $5, $6, true, $7) r",
		7, t_slow);
}

/* Statement 2 (either form) with its arguments. */
typedef struct OrderWrites
{
	SPIPlanPtr	plan;
	Datum	   *args;
	char	   *nulls;
	bool		used;			/* the code was used */
	bool		took;			/* a slot unit was taken, at key */
	int64		key;
	bool		done;			/* everything was written */
	bool		locked;			/* statement 2 locked a slot (taken, or found full) */
} OrderWrites;

/* Runs statement 2; true when it wrote the whole order, false otherwise (see w). */
static bool
write_order(void *arg)
{
	OrderWrites *w = arg;
	int			ret = SPI_execute_plan(w->plan, w->args, w->nulls, false, 0);
	bool		isnull;

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "using the code failed: %s", SPI_result_code_string(ret));
	w->used = col_int8(0, 1, &isnull) == 1;
	w->key = col_int8(0, 2, &isnull);
	w->took = !isnull;
	w->done = col_int8(0, 3, &isnull) == 1;
	(void) col_int8(0, 4, &isnull);
	w->locked = !isnull;
	SPI_freetuptable(SPI_tuptable);
	return w->done;
}

/* What write_order_fast did. */
typedef enum WriteOutcome
{
	WRITE_DONE,					/* the order is written */
	WRITE_SOLD_OUT,				/* nothing written: no slot has room */
	WRITE_SLOW					/* nothing written: the slow path decides */
} WriteOutcome;

#define REDEEM_RETRIES 1000

/* Whether a slot of the benefit has room for the units, on the latest commit (args of statement 2). */
static bool
slots_have_room(Datum *args)
{
	Datum		room_args[2] = {args[1], args[2]};
	int			ret = SPI_execute_plan(plan_room, room_args, NULL, false, 1);
	bool		room;

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "looking at the quota slots failed: %s", SPI_result_code_string(ret));
	room = col_bool(0, 1);
	SPI_freetuptable(SPI_tuptable);
	return room;
}

/*
 * Writes the order of a redemption: statement 2, and statement 3 when it
 * went only part of the way.  When statement 2 locked a slot that filled
 * since its snapshot, that lock is held until the transaction ends, out of
 * the common order: from then on this call never waits on a slot.  It
 * tries the statement that never waits every millisecond until a slot is
 * taken, or no slot has room on the latest commit (sold out): the room
 * another buyer holds is his within milliseconds, or given back, because a
 * buyer waiting on this call's slot holds only slots he found full or took
 * whole.  After REDEEM_RETRIES tries it leaves it to the slow path, as when
 * no slot had room in the snapshot.
 */
static WriteOutcome
write_order_fast(Datum *args, char *nulls)
{
	OrderWrites w = {plan_use_order, args, nulls};

	for (int attempt = 0;; attempt++)
	{
		if (write_order(&w))
			return WRITE_DONE;
		if (w.used)
		{
			Datum		undo[4] = {args[0], Int64GetDatum(w.key), args[1], args[2]};
			char		undo_nulls[4] = {' ', w.took ? ' ' : 'n', ' ', ' '};
			int			ret = SPI_execute_plan(plan_undo_use, undo, undo_nulls, false, 0);

			if (ret != SPI_OK_UPDATE)
				elog(ERROR, "putting the code back failed: %s", SPI_result_code_string(ret));
		}
		/*
		 * the code taken meanwhile, the order made meanwhile, or no slot
		 * with room at the first try: the slow path
		 */
		if (!w.used || w.took || (!w.locked && w.plan == plan_use_order))
			return WRITE_SLOW;
		/* a slot found full since the snapshot is held: never wait again */
		if (!slots_have_room(args))
			return WRITE_SOLD_OUT;
		if (attempt == REDEEM_RETRIES)
			return WRITE_SLOW;
		pg_usleep(1000L);
		CHECK_FOR_INTERRUPTS();
		w.plan = plan_use_order_nowait;
	}
}

/* What decides the fast path besides the use rule. */
typedef struct FastFacts
{
	int64		benefit_id;
	char	   *benefit_code;
	int32		units;			/* units per code, 1 when not set */
	bool		contact_limit;	/* the benefit has a per-contact limit */
	bool		within_order_limit; /* a code's units fit the per-order limit */
} FastFacts;

/*
 * The use rule's facts from row 0 of statement 1 on the cache (the code's
 * row) and the benefit's facts in the configuration cache; false when the
 * code is not issued or its benefit is not in the cache.
 */
static bool
read_cached_facts(const BenefitConfig *cfg, const BenefitSale *sale, UseFacts *f, FastFacts *x,
				  const char *order_ref)
{
	bool		isnull;
	char	   *state = col_text(0, 1, CurrentMemoryContext);
	char	   *hold_order = col_text(0, 2, CurrentMemoryContext);
	const CfgBenefit *b;

	memset(f, 0, sizeof(UseFacts));
	if (!use_code_state(state, &f->code_state))
		elog(ERROR, "unknown code state \"%s\"", state);
	f->held_by_this_order = hold_order != NULL && strcmp(hold_order, order_ref) == 0;
	f->hold_until = col_timestamptz(0, 3, &isnull);
	x->benefit_id = col_int8(0, 4, &isnull);
	b = cfg_benefit(cfg, x->benefit_id);
	if (b == NULL)
		return false;
	x->benefit_code = pstrdup(b->code);
	x->units = b->units_per_code < 0 ? 1 : b->units_per_code;
	x->contact_limit = b->quota_per_contact >= 0;
	x->within_order_limit = b->quota_per_order < 0 || x->units <= b->quota_per_order;
	f->benefit_live = b->live;
	f->valid_from = b->valid_from;
	f->valid_from_set = b->valid_from_set;
	f->valid_until = b->valid_until;
	f->valid_until_set = b->valid_until_set;
	f->channel_given = !sale->channel_null;
	f->on_channel = !sale->channel_null && cfg_on_channel(b->all_channels, b->channels, b->nchannels,
														  sale->channel_id);
	f->web_channel = !sale->channel_null && sale->channel_web;
	f->benefit_pos_set = b->pos_set;
	f->pos_matches = sale->point_of_sale_null ? !b->pos_set : (b->pos_set && b->pos_id == sale->point_of_sale_id);
	/* the quotas are decided by the take: a slot with room, or the slow path's reason */
	return f->code_state == USE_ISSUED;
}

PG_FUNCTION_INFO_V1(benefit_redeem_order);

/* benefit.redeem_code(code, contact_id, order_ref, channel, point_of_sale, client_key), 0.3.0. */
Datum
benefit_redeem_order(PG_FUNCTION_ARGS)
{
	Oid			rowtype = redemption_type(fcinfo);
	Datum		values[5];
	bool		nulls[5] = {false, false, true, true, true};
	bool		contact_null = PG_ARGISNULL(1);
	int64		contact_id = contact_null ? 0 : PG_GETARG_INT64(1);
	text	   *client_key = PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5);
	TimestampTz now = GetCurrentTimestamp();	/* the call's instant */
	char	   *order_str;
	BenefitSale sale;
	Datum		args[9];
	char		argnulls[9];
	int			ret;
	const char *reason = NULL;
	const BenefitConfig *cfg;
	bool		contact_checked;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("code must not be NULL"));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("order_ref must not be NULL"));
	benefit_require_writable("benefit.redeem_code()");
	benefit_check_order_ref(PG_GETARG_TEXT_PP(2));
	order_str = text_to_cstring(PG_GETARG_TEXT_PP(2));
	values[1] = PG_GETARG_DATUM(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* an error unwinds the pushed path with the (sub)transaction */
	benefit_push_search_path();
	benefit_plans_get(&order_plans, benefit_code_type_oid(), make_order_plans);

	/*
	 * the references the application passes: 22023 / P0002 whatever the
	 * code; on the configuration cache, the contact is read with the code
	 */
	cfg = benefit_config_pin();
	if (cfg == NULL)			/* the cache is 0.3.0's, as this function */
		elog(ERROR, "benefit.redeem_code needs the configuration cache of benefit 0.3.0");
	benefit_check_sale_refs(cfg, PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), PG_ARGISNULL(3),
							PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), PG_ARGISNULL(4), false, &sale);
	contact_checked = contact_null;

	if (!benefit_throttle_check(!contact_null, contact_id, client_key))
	{
		UseFacts	f;
		FastFacts	x;
		bool		fast;
		WriteOutcome outcome;

		args[0] = PG_GETARG_DATUM(0);
		args[1] = contact_null ? (Datum) 0 : PG_GETARG_DATUM(1);
		memset(argnulls, ' ', sizeof(argnulls));
		argnulls[1] = contact_null ? 'n' : ' ';
		ret = SPI_execute_plan(plan_code_row, args, argnulls, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading the code failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 1)
		{
			if (!col_bool(0, 5))
			{
				benefit_config_unpin();
				benefit_refuse_contact(contact_id);
			}
			contact_checked = true;
			fast = read_cached_facts(cfg, &sale, &f, &x, order_str);
			SPI_freetuptable(SPI_tuptable);
			if (fast && use_refusal(&f, now) == NULL
				&& (contact_null || !x.contact_limit) && x.within_order_limit)
			{
				args[1] = Int64GetDatum(x.benefit_id);
				args[2] = Int32GetDatum(x.units);
				args[3] = PG_GETARG_DATUM(2);
				args[4] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
				args[5] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
				args[6] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
				args[7] = TimestampTzGetDatum(now);
				args[8] = Int32GetDatum((int32) (now & 15));
				memset(argnulls, ' ', sizeof(argnulls));
				argnulls[4] = contact_null ? 'n' : ' ';
				argnulls[5] = PG_ARGISNULL(3) ? 'n' : ' ';
				argnulls[6] = PG_ARGISNULL(4) ? 'n' : ' ';
				outcome = write_order_fast(args, argnulls);
				if (outcome == WRITE_SOLD_OUT)
				{
					reason = "quota_exhausted";
					values[2] = Int64GetDatum(x.benefit_id);
					values[3] = SPI_datumTransfer(CStringGetTextDatum(x.benefit_code), false, -1);
					nulls[2] = nulls[3] = false;
				}
				else if (outcome == WRITE_DONE)
				{
					reason = "ok";
					values[2] = Int64GetDatum(x.benefit_id);
					/* outlives SPI_finish */
					values[3] = SPI_datumTransfer(CStringGetTextDatum(x.benefit_code), false, -1);
					nulls[2] = nulls[3] = false;
					values[4] = TimestampTzGetDatum(now);
					nulls[4] = false;
				}
			}
		}
	}
	benefit_config_unpin();

	if (reason == NULL)
	{
		/* an unknown code: the contact is still checked first (P0002) */
		if (!contact_checked)
			benefit_check_sale(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), PG_ARGISNULL(3),
							   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), PG_ARGISNULL(4),
							   PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1), contact_null, false, false,
							   &sale);
		/* not that simple: the code call of the ledger decides */
		args[0] = PG_GETARG_DATUM(0);
		args[1] = PG_GETARG_DATUM(2);
		args[2] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		args[3] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		args[4] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
		args[5] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
		args[6] = TimestampTzGetDatum(now);
		memset(argnulls, ' ', sizeof(argnulls));
		argnulls[2] = PG_ARGISNULL(3) ? 'n' : ' ';
		argnulls[3] = PG_ARGISNULL(4) ? 'n' : ' ';
		argnulls[4] = contact_null ? 'n' : ' ';
		argnulls[5] = PG_ARGISNULL(5) ? 'n' : ' ';
		ret = SPI_execute_plan(plan_code_order, args, argnulls, false, 0);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "the code call failed: %s", SPI_result_code_string(ret));
		reason = col_text(0, 1, CurrentMemoryContext);
		values[2] = Int64GetDatum(col_int8(0, 2, &nulls[2]));
		values[3] = col_datum_copy(0, 3, &nulls[3]);
		values[4] = TimestampTzGetDatum(col_timestamptz(0, 4, &nulls[4]));
	}
	values[0] = benefit_reason_datum(reason_type, reason);
	benefit_pop_search_path();
	SPI_finish();
	PG_RETURN_DATUM(redemption_datum(rowtype, values, nulls));
}
