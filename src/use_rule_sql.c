/*-------------------------------------------------------------------------
 *
 * use_rule_sql.c
 *		benefit_internal.use_reason: the rule of src/use_rule.c for SQL and
 *		PL/pgSQL callers, which read the facts and pass them in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "reason.h"
#include "use_rule.h"

PG_FUNCTION_INFO_V1(benefit_use_reason);

/* A boolean argument, false when NULL. */
static bool
arg_bool(FunctionCallInfo fcinfo, int n)
{
	return !PG_ARGISNULL(n) && PG_GETARG_BOOL(n);
}

/*
 * use_reason(code_state text, held_by_this_order boolean, hold_until timestamptz,
 *            benefit_live boolean, valid_from timestamptz, valid_until timestamptz,
 *            channel_given boolean, on_channel boolean, web_channel boolean,
 *            benefit_pos_set boolean, pos_matches boolean,
 *            total_left bigint, contact_left bigint, units integer, at timestamptz)
 * returns benefit.reason: ok or the first refusal.  A NULL limit or window
 * is not checked; a NULL code state is a benefit used without a code.
 */
Datum
benefit_use_reason(PG_FUNCTION_ARGS)
{
	UseFacts	f;
	const char *reason;
	char	   *state = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (PG_ARGISNULL(14))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("the instant of a use must not be NULL"));
	memset(&f, 0, sizeof(f));
	if (!use_code_state(state, &f.code_state))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("unknown code state \"%s\"", state));
	f.held_by_this_order = arg_bool(fcinfo, 1);
	f.hold_until = PG_ARGISNULL(2) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(2);
	f.benefit_live = arg_bool(fcinfo, 3);
	f.valid_from_set = !PG_ARGISNULL(4);
	f.valid_from = f.valid_from_set ? PG_GETARG_TIMESTAMPTZ(4) : 0;
	f.valid_until_set = !PG_ARGISNULL(5);
	f.valid_until = f.valid_until_set ? PG_GETARG_TIMESTAMPTZ(5) : 0;
	f.channel_given = arg_bool(fcinfo, 6);
	f.on_channel = arg_bool(fcinfo, 7);
	f.web_channel = arg_bool(fcinfo, 8);
	f.benefit_pos_set = arg_bool(fcinfo, 9);
	f.pos_matches = arg_bool(fcinfo, 10);
	f.total_set = !PG_ARGISNULL(11);
	f.total_left = f.total_set ? PG_GETARG_INT64(11) : 0;
	f.contact_set = !PG_ARGISNULL(12);
	f.contact_left = f.contact_set ? PG_GETARG_INT64(12) : 0;
	f.units = PG_ARGISNULL(13) ? 1 : PG_GETARG_INT32(13);
	reason = use_refusal(&f, PG_GETARG_TIMESTAMPTZ(14));
	PG_RETURN_DATUM(benefit_reason_datum(get_fn_expr_rettype(fcinfo->flinfo), reason == NULL ? "ok" : reason));
}
