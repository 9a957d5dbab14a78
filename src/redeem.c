/*-------------------------------------------------------------------------
 *
 * redeem.c
 *		benefit.redeem_code: check and use a single-use code in one call.
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
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "glue.h"
#include "sale.h"
#include "throttle.h"

static SPIPlanPtr plan_fast;
static SPIPlanPtr plan_fast_channel;
static SPIPlanPtr plan_lock;
static SPIPlanPtr plan_channel;
static SPIPlanPtr plan_use;
static SPIPlanPtr plan_history;
static Oid	plans_code_type = InvalidOid;

/* Prepares the plans once per backend, again after the extension is re-created. */
static void
prepare_plans(Oid code_type)
{
	Oid			t_lock[1];
	Oid			t_channel[2] = {TEXTOID, INT8OID};
	Oid			t_use[4];
	Oid			t_history[6];
	Oid			t_fast[6];

	if (plans_code_type == code_type)
		return;
	if (OidIsValid(plans_code_type))
	{
		SPI_freeplan(plan_fast);
		SPI_freeplan(plan_fast_channel);
		SPI_freeplan(plan_lock);
		SPI_freeplan(plan_channel);
		SPI_freeplan(plan_use);
		SPI_freeplan(plan_history);
		plans_code_type = InvalidOid;
	}
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

	plan_fast = benefit_keep_plan(FAST_UPDATE FAST_HISTORY, 6, t_fast);
	plan_fast_channel = benefit_keep_plan(
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

	plan_lock = benefit_keep_plan(
		"SELECT c.state::pg_catalog.text, c.hold_order, c.hold_until, c.benefit_id, "
		"       b.status::pg_catalog.text, b.valid_from, b.valid_until, b.all_channels, "
		"       p.code, b.code "
		"FROM benefit.single_use_code c "
		"JOIN benefit.benefit b ON b.benefit_id = c.benefit_id "
		"LEFT JOIN benefit.point_of_sale p ON p.point_of_sale_id = b.point_of_sale_id "
		"WHERE c.code OPERATOR(benefit.=) $1 FOR UPDATE OF c",
		1, t_lock);
	plan_channel = benefit_keep_plan(
		"SELECT sc.kind::pg_catalog.text, "
		"       EXISTS (SELECT 1 FROM benefit.benefit_channel bc "
		"                WHERE bc.benefit_id = $2 AND bc.channel_id = sc.channel_id) "
		"FROM benefit.sales_channel sc WHERE sc.code = $1",
		2, t_channel);
	plan_use = benefit_keep_plan(
		"UPDATE benefit.single_use_code SET state = 'used', used_at = $2, used_by_contact = $3, "
		"       used_order = $4, hold_order = NULL, hold_until = NULL "
		"WHERE code OPERATOR(benefit.=) $1",
		4, t_use);
	plan_history = benefit_keep_plan(
		"INSERT INTO benefit.code_history (code, from_state, to_state, at, order_ref, contact_id, channel) "
		"VALUES ($1, $2::benefit.code_state, 'used', $3, $4, $5, $6)",
		6, t_history);
	plans_code_type = code_type;
}

/*
 * The result type and the OIDs of the reasons, looked up once per backend
 * rather than on every call (get_call_result_type reads pg_proc and copies
 * the row type; enum_in probes pg_enum): kept for one function OID, until
 * benefit_catalog_epoch() says pg_type, pg_namespace or pg_enum changed,
 * as after DROP EXTENSION / CREATE EXTENSION in the same backend.
 */
static const char *const reason_labels[] = {
	"ok", "unknown_code", "already_used", "invalidated", "held_by_other_order",
	"benefit_not_live", "not_yet_valid", "expired", "wrong_channel",
	"wrong_point_of_sale", "throttled"
};
#define NUM_REASONS ((int) lengthof(reason_labels))

static uint64 types_epoch = 0;
static Oid	types_fn_oid = InvalidOid;
static Oid	result_type = InvalidOid;
static Oid	reason_type = InvalidOid;
static Oid	reason_oids[NUM_REASONS];

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
	memset(reason_oids, 0, sizeof(reason_oids));
	types_fn_oid = fcinfo->flinfo->fn_oid;
	types_epoch = epoch;
	return result_type;
}

/* Returns reason as a benefit.reason Datum (enum_in the first time). */
static Datum
reason_datum(const char *reason)
{
	int			i;

	for (i = 0; i < NUM_REASONS; i++)
	{
		if (strcmp(reason, reason_labels[i]) == 0)
		{
			if (!OidIsValid(reason_oids[i]))
				reason_oids[i] = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(reason),
																	  ObjectIdGetDatum(reason_type)));
			return ObjectIdGetDatum(reason_oids[i]);
		}
	}
	elog(ERROR, "unexpected reason \"%s\"", reason);
	return (Datum) 0;			/* keep compiler quiet */
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

/* Returns column n of the first row of the last SPI result, as text (NULL for SQL NULL). */
static char *
col_text(int n)
{
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n);
}

/* Returns column n of the first row of the last SPI result as a Datum. */
static Datum
col_datum(int n, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n, isnull);
}

PG_FUNCTION_INFO_V1(benefit_redeem_code);

/* Checks and uses a single-use code for an order; returns a benefit.redemption. */
Datum
benefit_redeem_code(PG_FUNCTION_ARGS)
{
	Oid			rowtype;
	Datum		values[5];
	bool		nulls[5] = {false, true, true, true, true};
	const char *reason = "ok";
	Datum		code;
	bool		contact_null = PG_ARGISNULL(1);
	int64		contact_id = contact_null ? 0 : PG_GETARG_INT64(1);
	text	   *client_key = PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5);
	Datum		order_ref;
	char	   *order_str;
	char	   *channel = NULL;
	char	   *pos = NULL;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Oid			code_type;
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
	code = PG_GETARG_DATUM(0);
	order_ref = PG_GETARG_DATUM(2);
	order_str = TextDatumGetCString(order_ref);
	if (order_str[strspn(order_str, " \t\r\n")] == '\0' || strlen(order_str) > 200)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("order_ref must be 1 to 200 characters, not blank"));
	values[1] = code;
	nulls[1] = false;

	code_type = benefit_code_type_oid();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* an error unwinds the pushed path with the (sub)transaction */
	benefit_push_search_path();
	prepare_plans(code_type);

	/*
	 * Throttling first: a contact or client key with too many wrong codes in
	 * the window gets "throttled" whatever it types (a right guess too).
	 */
	if (benefit_throttle_check(!contact_null, contact_id, client_key))
	{
		values[0] = reason_datum("throttled");
		benefit_pop_search_path();
		SPI_finish();
		PG_RETURN_DATUM(redemption_datum(rowtype, values, nulls));
	}

	args[0] = code;
	args[1] = TimestampTzGetDatum(now);
	args[2] = contact_null ? (Datum) 0 : PG_GETARG_DATUM(1);
	args[3] = order_ref;
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
		values[2] = col_datum(1, &isnull);
		nulls[2] = false;
		values[3] = SPI_datumTransfer(col_datum(2, &isnull), false, -1);
		nulls[3] = false;
		values[4] = TimestampTzGetDatum(now);
		nulls[4] = false;
		values[0] = reason_datum(reason);
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
					   contact_null ? (Datum) 0 : PG_GETARG_DATUM(1), contact_null, false, false, &sale);

	/* the slow path compares and reports the channel and point of sale */
	if (!PG_ARGISNULL(3))
		channel = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (!PG_ARGISNULL(4))
		pos = text_to_cstring(PG_GETARG_TEXT_PP(4));

	args[0] = code;
	ret = SPI_execute_plan(plan_lock, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up the code failed: %s", SPI_result_code_string(ret));

	if (SPI_processed == 0)
		reason = "unknown_code";
	else
	{
		char	   *state = col_text(1);
		char	   *hold_order = col_text(2);
		Datum		hold_until = col_datum(3, &isnull);
		bool		hold_until_null = isnull;
		int64		benefit_id = DatumGetInt64(col_datum(4, &isnull));
		char	   *status = col_text(5);
		Datum		valid_from = col_datum(6, &isnull);
		bool		from_null = isnull;
		Datum		valid_until = col_datum(7, &isnull);
		bool		until_null = isnull;
		bool		all_channels = DatumGetBool(col_datum(8, &isnull));
		char	   *pos_code = col_text(9);
		char	   *benefit_code = col_text(10);

		values[2] = Int64GetDatum(benefit_id);
		nulls[2] = false;
		values[3] = CStringGetTextDatum(benefit_code);
		nulls[3] = false;

		if (strcmp(state, "invalidated") == 0)
			reason = "invalidated";
		else if (strcmp(state, "used") == 0)
			reason = "already_used";
		else if (strcmp(state, "held") == 0 && strcmp(hold_order, order_str) != 0 &&
				 !hold_until_null && DatumGetTimestampTz(hold_until) >= now)
			reason = "held_by_other_order";
		else if (strcmp(status, "live") != 0)
			reason = "benefit_not_live";
		else if (!from_null && DatumGetTimestampTz(valid_from) > now)
			reason = "not_yet_valid";
		else if (!until_null && DatumGetTimestampTz(valid_until) <= now)
			reason = "expired";
		else if (channel != NULL)
		{
			char	   *kind;
			bool		listed;

			args[0] = CStringGetTextDatum(channel);
			args[1] = Int64GetDatum(benefit_id);
			ret = SPI_execute_plan(plan_channel, args, NULL, false, 1);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "looking up the channel failed: %s", SPI_result_code_string(ret));
			if (SPI_processed == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("sales channel \"%s\" does not exist", channel));
			kind = col_text(1);
			listed = DatumGetBool(col_datum(2, &isnull));
			if (!all_channels && !listed)
				reason = "wrong_channel";
			else if (strcmp(kind, "web") == 0 && pos_code != NULL &&
					 (pos == NULL || strcmp(pos, pos_code) != 0))
				reason = "wrong_point_of_sale";
		}

		if (strcmp(reason, "ok") == 0)
		{
			args[0] = code;
			args[1] = TimestampTzGetDatum(now);
			args[2] = contact_null ? (Datum) 0 : PG_GETARG_DATUM(1);
			args[3] = order_ref;
			memset(argnulls, ' ', sizeof(argnulls));
			argnulls[2] = contact_null ? 'n' : ' ';
			ret = SPI_execute_plan(plan_use, args, argnulls, false, 0);
			if (ret != SPI_OK_UPDATE || SPI_processed != 1)
				elog(ERROR, "using the code failed: %s", SPI_result_code_string(ret));

			args[0] = code;
			args[1] = CStringGetTextDatum(state);
			args[2] = TimestampTzGetDatum(now);
			args[3] = order_ref;
			args[4] = contact_null ? (Datum) 0 : PG_GETARG_DATUM(1);
			args[5] = channel ? CStringGetTextDatum(channel) : (Datum) 0;
			memset(argnulls, ' ', sizeof(argnulls));
			argnulls[4] = contact_null ? 'n' : ' ';
			argnulls[5] = channel ? ' ' : 'n';
			ret = SPI_execute_plan(plan_history, args, argnulls, false, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "recording the use failed: %s", SPI_result_code_string(ret));
			values[4] = TimestampTzGetDatum(now);
			nulls[4] = false;
		}
	}

	/* a code that does not exist counts against the contact and the client key */
	if (strcmp(reason, "unknown_code") == 0)
		benefit_throttle_count(!contact_null, contact_id, client_key, 1);

	values[0] = reason_datum(reason);
	/* values built from SPI results must outlive SPI_finish */
	if (!nulls[3])
		values[3] = SPI_datumTransfer(values[3], false, -1);
	benefit_pop_search_path();
	SPI_finish();
	PG_RETURN_DATUM(redemption_datum(rowtype, values, nulls));
}
